"""`epicap synth`: writes a session with truth, refuses to overwrite, one-line errors."""
import numpy as np

from epicap.cli import main
from epicap.session import Keypoints2D
from epicap.synthetic import read_truth


def test_synth_writes_a_session(tmp_path, capsys):
    out = tmp_path / "s"
    status = main(["synth", "--out", str(out), "--cameras", "6", "--frames", "40",
                   "--noise-px", "2", "--outliers", "0.1", "--missing", "0.05", "--bias-px", "4",
                   "--joint-set", "body25b", "--offsets-frames", "0,1,2,-1,0.5,0",
                   "--seed", "3", "--quiet"])
    assert status == 0
    text = capsys.readouterr().out
    assert "6 cameras x 40 frames" in text and "body25b" in text and "truth/" in text
    kp = Keypoints2D.from_npz(out / "keypoints2d.npz")
    assert kp.keypoints.shape == (6, 40, 25, 3) and kp.fps == 30.0
    truth = read_truth(out)
    np.testing.assert_array_equal(truth.offsets_frames, [0, 1, 2, -1, 0.5, 0])
    assert truth.options["outlier_fraction"] == 0.1 and truth.options["seed"] == 3
    reported = ~truth.missing
    assert abs(truth.outlier.sum() / reported.sum() - 0.1) < 0.02


def test_synth_refuses_to_overwrite(tmp_path, capsys):
    out = str(tmp_path / "s")
    assert main(["synth", "--out", out, "--frames", "5"]) == 0
    capsys.readouterr()
    assert main(["synth", "--out", out, "--frames", "5"]) == 2
    err = capsys.readouterr().err
    assert "--force" in err and len(err.strip().splitlines()) == 1
    assert main(["synth", "--out", out, "--frames", "5", "--cameras", "2", "--force"]) == 0
    assert Keypoints2D.from_npz(tmp_path / "s" / "keypoints2d.npz").keypoints.shape[0] == 2


def test_synth_video(tmp_path):
    out = tmp_path / "v"
    assert main(["synth", "--out", str(out), "--frames", "3", "--cameras", "2", "--video",
                 "--image-size", "160x120", "--focal-px", "150"]) == 0
    assert sorted(p.name for p in (out / "videos").iterdir()) == ["cam01.mp4", "cam02.mp4"]


def test_synth_bad_input(tmp_path, capsys):
    out = str(tmp_path / "s")
    for argv in (["--cameras", "0"], ["--offsets-frames", "1,2"], ["--offsets-frames", "a,b,c,d"],
                 ["--image-size", "big"], ["--outliers", "2"], ["--fps", "-1"]):
        assert main(["synth", "--out", out] + argv) == 2, argv
        assert "error:" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()
