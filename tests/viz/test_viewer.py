import pytest

from epicap.cli import main
from epicap.errors import InputError
from epicap.viz.viewer import Player, require_display
from tests.viz.session_factory import make_session


def test_player_plays_steps_and_stops():
    p = Player(num_frames=10, fps=10.0)
    assert not p.tick(1.0)  # paused: nothing moves
    p.toggle()
    assert p.tick(0.05) is False and p.frame == 0   # half a frame
    assert p.tick(0.05) and p.frame == 1
    assert p.tick(0.35) and p.frame == 4
    assert p.step(-10) == 0 and not p.playing
    assert p.step(+3) == 3
    p.seek(9)
    p.toggle()  # playing from the end starts over
    assert p.frame == 0 and p.playing
    p.tick(5.0)
    assert p.frame == 9 and not p.playing


def test_no_display_says_so_and_suggests_offscreen(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(InputError, match="--offscreen"):
        require_display()
    session = make_session(tmp_path / "s", with_keypoints=False)
    assert main(["view", str(session)]) == 2
    err = capsys.readouterr().err.strip()
    assert "no display" in err and "--offscreen" in err and len(err.splitlines()) == 1


def test_missing_files_name_the_verb_that_makes_them(tmp_path, capsys):
    (tmp_path / "s").mkdir()
    assert main(["view", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert "cameras.toml: not found" in err and "epicap calibrate" in err
    assert main(["view", str(tmp_path / "nope")]) == 2
