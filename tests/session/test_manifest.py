import numpy as np
import pytest

from epicap.errors import InputError
from epicap.session.manifest import CameraEntry, SessionManifest


def test_round_trip_and_paths(tmp_path):
    (tmp_path / "timestamps").mkdir()
    np.savetxt(tmp_path / "timestamps" / "a.csv", np.arange(5) / 30.0)
    m = SessionManifest([CameraEntry("a", 30.0, 5, 64, 48, "videos/a.mp4", "timestamps/a.csv"),
                         CameraEntry("b", 30.0, 5, 64, 48, "/data/b.mp4", external=True)])
    m.save(tmp_path)
    back = SessionManifest.load(tmp_path)
    assert back.names == ["a", "b"]
    assert back.video_path(tmp_path, "a") == tmp_path / "videos" / "a.mp4"
    assert str(back.video_path(tmp_path, "b")) == "/data/b.mp4"
    np.testing.assert_allclose(back.timestamps(tmp_path, "a"), np.arange(5) / 30.0)
    assert back.timestamps(tmp_path, "b") is None


@pytest.mark.parametrize("video", ["../../etc/passwd", "/etc/passwd"])
def test_paths_may_not_leave_the_session(tmp_path, video):
    (tmp_path / "session.toml").write_text(
        f'version = 1\n[[camera]]\nname = "a"\nvideo = "{video}"\nfps = 30.0\n'
        'frame_count = 5\nwidth = 64\nheight = 48\n')
    with pytest.raises(InputError, match="outside the session"):
        SessionManifest.load(tmp_path)


def test_missing_and_bad_manifests(tmp_path):
    with pytest.raises(InputError, match="epicap ingest"):
        SessionManifest.load(tmp_path)
    (tmp_path / "session.toml").write_text('version = 1\n[[camera]]\nname = "a"\n')
    with pytest.raises(InputError, match="missing key 'fps'"):
        SessionManifest.load(tmp_path)
    (tmp_path / "session.toml").write_text("version = 7\n")
    with pytest.raises(InputError, match="version"):
        SessionManifest.load(tmp_path)
