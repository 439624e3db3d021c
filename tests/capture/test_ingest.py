"""Ingesting videos into a session: copy or reference, variable frame rate, bad videos."""
import numpy as np
import pytest

from epicap.capture import ingest as ingest_mod
from epicap.capture.ingest import camera_names_for, ingest_videos
from epicap.capture.video import probe_video
from epicap.errors import InputError
from epicap.session.manifest import SessionManifest
from tests.capture.test_video import make_video


def test_copy_into_session(tmp_path):
    a = make_video(tmp_path / "cam01.mp4", 30, (64, 48), 30)
    b = make_video(tmp_path / "cam02.mp4", 20, (80, 60), 25)
    found = ingest_videos([a, b], tmp_path / "s")
    assert [c.name for c in found] == ["cam01", "cam02"]
    man = SessionManifest.load(tmp_path / "s")
    c2 = man.camera("cam02")
    assert (c2.frame_count, c2.width, c2.height, c2.fps, c2.external) == (20, 80, 60, 25, False)
    assert man.video_path(tmp_path / "s", "cam02") == tmp_path / "s" / "videos" / "cam02.mp4"
    assert probe_video(man.video_path(tmp_path / "s", "cam01")).frame_count == 30
    assert man.timestamps(tmp_path / "s", "cam01") is None  # uniform: no file
    with pytest.raises(InputError, match="a session exists"):
        ingest_videos([a], tmp_path / "s")
    ingest_videos([a], tmp_path / "s", force=True)
    assert SessionManifest.load(tmp_path / "s").names == ["cam01"]


def test_reference_and_variable_frame_rate(tmp_path, monkeypatch):
    a = make_video(tmp_path / "side.mp4", 10)
    real = probe_video

    def vfr_probe(path, read_frames=True, progress=None):
        info = real(path, read_frames, progress)
        info.timestamps = info.timestamps.copy()
        info.timestamps[5:] += 0.05
        return info

    monkeypatch.setattr(ingest_mod, "probe_video", vfr_probe)
    found = ingest_videos([a], tmp_path / "s", names=["left"], copy=False)
    assert found[0].stored_timestamps
    man = SessionManifest.load(tmp_path / "s")
    cam = man.camera("left")
    assert cam.external and man.video_path(tmp_path / "s", "left") == a.resolve()
    assert not (tmp_path / "s" / "videos").exists()
    ts = man.timestamps(tmp_path / "s", "left")
    np.testing.assert_allclose(ts[4:7], [4 / 30, 5 / 30 + 0.05, 6 / 30 + 0.05], atol=1e-4)


def test_bad_video_writes_nothing(tmp_path):
    a = make_video(tmp_path / "a.mp4")
    bad = tmp_path / "b.mp4"
    bad.write_bytes(a.read_bytes()[:500])
    with pytest.raises(InputError, match="b.mp4"):
        ingest_videos([a, bad], tmp_path / "s")
    assert not (tmp_path / "s").exists()
    with pytest.raises(InputError, match="not unique"):
        ingest_videos([a, a], tmp_path / "s", names=["x", "x"])


def test_truncated_video_warns_and_keeps_frames(tmp_path):
    path = make_video(tmp_path / "a.avi", 30, fourcc="MJPG", noise=True)
    cut = tmp_path / "cut.avi"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    found = ingest_videos([cut], tmp_path / "s")
    assert "truncated" in found[0].warning and "cut.avi" in found[0].warning
    cam = SessionManifest.load(tmp_path / "s").camera("cut")
    assert cam.frame_count == found[0].info.frame_count


def test_default_names_are_unique():
    assert camera_names_for(["x/cam.mp4", "y/cam.mp4", "z/b.avi"]) == ["cam", "cam_2", "b"]
