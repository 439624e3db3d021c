"""Probing videos with OpenCV: counts, sizes, timestamps, truncated and unreadable files."""
import cv2
import numpy as np
import pytest

from epicap.capture.video import probe_video, timestamps_are_uniform
from epicap.errors import InputError


def make_video(path, frames=30, size=(64, 48), fps=30, fourcc="mp4v", noise=False):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, size)
    rng = np.random.default_rng(0)
    for i in range(frames):
        f = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8) if noise else \
            np.full((size[1], size[0], 3), i * 8 % 256, np.uint8)
        writer.write(f)
    writer.release()
    return path


def test_probe_reads_size_count_and_times(tmp_path):
    info = probe_video(make_video(tmp_path / "a.mp4", 30, (64, 48), 25))
    assert (info.width, info.height, info.frame_count, info.fps) == (64, 48, 30, 25)
    np.testing.assert_allclose(info.timestamps, np.arange(30) / 25, atol=1e-3)
    assert info.uniform and not info.truncated
    quick = probe_video(tmp_path / "a.mp4", read_frames=False)
    assert quick.timestamps is None and quick.frame_count == 30


def test_truncated_avi_keeps_the_frames_that_decode(tmp_path):
    path = make_video(tmp_path / "a.avi", 30, fourcc="MJPG", noise=True)
    data = path.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: len(data) // 2])
    info = probe_video(cut)
    assert 5 < info.frame_count < 30 and info.declared_frames == 30 and info.truncated


def test_truncated_mp4_and_junk_are_input_errors(tmp_path):
    data = make_video(tmp_path / "a.mp4").read_bytes()
    (tmp_path / "cut.mp4").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="cut.mp4: OpenCV cannot open"):
        probe_video(tmp_path / "cut.mp4")
    with pytest.raises(InputError, match="no such video"):
        probe_video(tmp_path / "none.mp4")


def test_uniformity():
    ts = np.arange(10) / 30
    assert timestamps_are_uniform(ts, 30)
    assert timestamps_are_uniform(ts + 0.005, 30)
    vfr = ts.copy()
    vfr[5:] += 0.02  # one long frame interval (60% of a period)
    assert not timestamps_are_uniform(vfr, 30)
