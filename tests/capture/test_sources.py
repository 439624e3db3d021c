"""Frame sources: the synthetic camera's clock and counter, OpenCV files, spec parsing."""
import time

import cv2
import numpy as np
import pytest

from epicap.capture.sources import OpenCVSource, SyntheticCamera, decode_counter, open_source
from epicap.errors import InputError


def test_counter_survives_mp4v_compression(tmp_path):
    cam = SyntheticCamera(30, (64, 48), realtime=False)
    path = str(tmp_path / "c.mp4")
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"mp4v"), 30, (64, 48))
    indices = [0, 1, 2, 5, 255, 1023, 40000, 65535]
    for i in indices:
        frame = cam.draw(i)
        assert decode_counter(frame) == i
        writer.write(frame)
    writer.release()
    cap = cv2.VideoCapture(path)
    got = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        got.append(decode_counter(f))
    assert got == indices


def test_frames_in_order_then_a_normal_end():
    cam = SyntheticCamera(1000, (64, 48), frames=5)
    got = []
    while True:
        ok, f = cam.read()
        if not ok:
            break
        got.append(decode_counter(f))
    assert got == [0, 1, 2, 3, 4] and cam.exhausted and cam.skipped == 0


def test_a_slow_reader_loses_frames_beyond_the_buffer():
    cam = SyntheticCamera(200, (64, 48), buffer_frames=2)
    ok, f = cam.read()
    time.sleep(0.1)  # 20 frame periods unread
    ok, f = cam.read()
    assert ok and decode_counter(f) >= 15 and cam.skipped >= 14
    assert cam.produced == decode_counter(f) + 1


def test_disconnect_is_not_an_end():
    # 100 fps: at 1000 a reader stalled 2-3 ms by a loaded machine lost a frame to the buffer
    # and met the disconnect a read early
    cam = SyntheticCamera(100, (64, 48), disconnect_after=3)
    oks = [cam.read()[0] for _ in range(4)]
    assert oks == [True, True, True, False] and not cam.exhausted


def test_open_source_specs(tmp_path):
    cam = open_source("synthetic:fps=25,size=128x96,frames=10,disconnect=4")
    assert (cam.fps, cam.size, cam.frames, cam.disconnect_after) == (25, (128, 96), 10, 4)
    assert open_source("synthetic:60").fps == 60
    with pytest.raises(InputError, match="unknown synthetic option"):
        open_source("synthetic:speed=3")
    with pytest.raises(InputError, match="bad synthetic"):
        open_source("synthetic:fps=x")
    with pytest.raises(InputError, match="no such device index, URL or video file"):
        open_source(str(tmp_path / "none.mp4"))
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video" * 10)
    with pytest.raises(InputError, match="cannot open"):
        open_source(str(junk))


def test_file_source_is_paced_and_ends(tmp_path):
    path = tmp_path / "v.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 50, (64, 48))
    for i in range(10):
        writer.write(np.full((48, 64, 3), i * 20, np.uint8))
    writer.release()
    src = OpenCVSource(str(path))
    t0 = time.monotonic()
    n = 0
    while src.read()[0]:
        n += 1
    assert n == 10 and src.exhausted and time.monotonic() - t0 >= 9 / 50 - 1e-3
