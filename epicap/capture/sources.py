"""Frame sources for `epicap record`: OpenCV cameras, streams and files, and a synthetic camera.

A source hands out frames one by one with `read() -> (ok, frame)`. When `ok` is False the stream
is over: `exhausted` tells a normal end (the end of a file, a synthetic camera's last frame) from
a camera that went away (a disconnect). Sources are opened by `open_source(spec)`:

    0, 1, ...                      a camera device index (cv2.VideoCapture(0))
    rtsp://..., http://...         a network stream
    path/to/file.mp4               a video file, played at its own frame rate like a live camera
    synthetic:30                   a synthetic camera at 30 fps (for tests, benchmarks, demos)
    synthetic:fps=30,size=640x480,frames=300,disconnect=120

The synthetic camera produces frames on its own clock whether or not they are read, as a real
camera does: a reader that falls behind loses frames (counted in `skipped`). Each frame carries its
index twice: as a binary code of 16 black-or-white blocks along the top (read back with
`decode_counter`, robust to video compression) and as digits for people.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from epicap.errors import InputError

__all__ = ["OpenCVSource", "SyntheticCamera", "open_source", "decode_counter", "COUNTER_BITS"]

COUNTER_BITS = 16


class OpenCVSource:
    """A cv2.VideoCapture on a device index, a URL or a file.

    spec: "0" (device), "rtsp://..." (stream) or a file path.
    fps: frame rate to ask a device for (ignored for files, which play at their own rate).
    size: (width, height) to ask a device for.
    """

    def __init__(self, spec: str, fps: float | None = None, size: tuple[int, int] | None = None):
        import cv2

        self.spec = spec
        self.is_file = not (spec.isdigit() or "://" in spec)
        if self.is_file and not Path(spec).is_file():
            raise InputError(f"camera {spec}: no such device index, URL or video file")
        from epicap.session.io import native_path

        self._cap = cv2.VideoCapture(int(spec) if spec.isdigit() else native_path(spec, "video"))
        if not self._cap.isOpened():
            raise InputError(f"camera {spec}: OpenCV cannot open it")
        if not self.is_file:
            if size is not None:
                self._cap.set(cv2.CAP_PROP_FRAME_WIDTH, size[0])
                self._cap.set(cv2.CAP_PROP_FRAME_HEIGHT, size[1])
            if fps is not None:
                self._cap.set(cv2.CAP_PROP_FPS, fps)
        reported = float(self._cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps = reported if 0 < reported < 1000 else fps
        self.exhausted = False
        self.skipped = 0
        self._count = 0
        self._start: float | None = None

    def read(self) -> tuple[bool, np.ndarray | None]:
        """The next frame; a file is paced at its frame rate so that it behaves like a camera."""
        ok, frame = self._cap.read()
        if not ok:
            self.exhausted = self.is_file
            return False, None
        if self.is_file and self.fps:
            if self._start is None:
                self._start = time.monotonic()
            delay = self._start + self._count / self.fps - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        self._count += 1
        return True, frame

    def release(self) -> None:
        self._cap.release()


class SyntheticCamera:
    """A fake camera producing frames at `fps` on its own clock, with its frame index drawn in.

    fps: frames per second. size: (width, height) pixels, width >= 64.
    frames: produce this many frames, then end normally (None: no end).
    disconnect_after: vanish after this many frames (a disconnect: `exhausted` stays False).
    realtime: False hands out frames as fast as they are read.
    buffer_frames: frames the "driver" holds for a late reader (V4L2 drivers keep about 4); a
        reader further behind loses the oldest.
    """

    def __init__(self, fps: float = 30.0, size: tuple[int, int] = (64, 48),
                 frames: int | None = None, disconnect_after: int | None = None,
                 realtime: bool = True, buffer_frames: int = 4):
        if not fps > 0 or size[0] < 64 or size[1] < 8:
            raise InputError(f"synthetic camera: need fps > 0 and size >= 64x8, got {fps}, {size}")
        self.fps = float(fps)
        self.size = (int(size[0]), int(size[1]))
        self.frames = frames
        self.disconnect_after = disconnect_after
        self.realtime = realtime
        self.buffer_frames = max(1, int(buffer_frames))
        self.exhausted = False
        self.produced = 0   # frames the camera made (handed out or skipped)
        self.skipped = 0    # frames made while nobody was reading
        self._start: float | None = None

    def read(self) -> tuple[bool, np.ndarray | None]:
        """Wait for the next frame (losing those whose time passed unread) and return it."""
        if self._start is None:
            self._start = time.monotonic()
        index = self.produced
        if self.realtime:
            now = time.monotonic() - self._start
            newest = int(np.floor(now * self.fps + 1e-9))  # the latest frame made by now
            if newest - index >= self.buffer_frames:  # the reader fell behind the buffer
                index = newest - self.buffer_frames + 1
            elif newest < index:
                time.sleep(max(0.0, index / self.fps - now))
        if self.disconnect_after is not None and index >= self.disconnect_after:
            return False, None
        if self.frames is not None and index >= self.frames:
            self.exhausted = True
            self.skipped += max(0, self.frames - self.produced)
            self.produced = max(self.produced, self.frames)
            return False, None
        self.skipped += index - self.produced
        self.produced = index + 1
        return True, self.draw(index)

    def draw(self, index: int) -> np.ndarray:
        """The frame for `index`: (H, W, 3) uint8 BGR, the counter in the top blocks."""
        import cv2

        w, h = self.size
        frame = np.full((h, w, 3), 90, dtype=np.uint8)
        frame[h // 2:] = (40, 120 + index % 100, 40)
        block = w // COUNTER_BITS
        band = max(4, min(h // 4, block))
        for b in range(COUNTER_BITS):
            if (index >> b) & 1:
                frame[:band, b * block:(b + 1) * block] = 255
            else:
                frame[:band, b * block:(b + 1) * block] = 0
        cv2.putText(frame, str(index), (2, min(h - 2, band + 14)), cv2.FONT_HERSHEY_SIMPLEX,
                    0.4, (255, 255, 255), 1, cv2.LINE_AA)
        return frame

    def release(self) -> None:
        pass


def decode_counter(frame: np.ndarray) -> int:
    """The frame index a SyntheticCamera drew into `frame` (H, W, 3) (after compression too)."""
    h, w = frame.shape[:2]
    block = w // COUNTER_BITS
    band = max(4, min(h // 4, block))
    gray = frame[:band, : block * COUNTER_BITS].mean(axis=2)
    inner = gray[band // 4: band - band // 4 or 1]
    value = 0
    for b in range(COUNTER_BITS):
        cell = inner[:, b * block + block // 4: (b + 1) * block - block // 4 or 1]
        if cell.mean() > 127:
            value |= 1 << b
    return value


def _parse_synthetic(spec: str, fps: float | None, size: tuple[int, int] | None):
    body = spec.split(":", 1)[1]
    opts: dict[str, str] = {}
    for part in filter(None, body.split(",")):
        key, eq, val = part.partition("=")
        if not eq:
            key, val = "fps", key
        opts[key.strip()] = val.strip()
    try:
        rate = float(opts.pop("fps", fps or 30.0))
        wh = opts.pop("size", None)
        dims = tuple(int(v) for v in wh.lower().split("x")) if wh else (size or (64, 48))
        frames = int(opts.pop("frames")) if "frames" in opts else None
        disconnect = int(opts.pop("disconnect")) if "disconnect" in opts else None
    except ValueError:
        raise InputError(f"camera {spec}: bad synthetic camera spec (e.g. "
                         "synthetic:fps=30,size=640x480,frames=300)") from None
    if opts:
        raise InputError(f"camera {spec}: unknown synthetic option(s) {', '.join(opts)}; "
                         "valid: fps, size, frames, disconnect")
    if len(dims) != 2:
        raise InputError(f"camera {spec}: size must be WIDTHxHEIGHT")
    return SyntheticCamera(rate, dims, frames, disconnect)


def open_source(spec: str, fps: float | None = None, size: tuple[int, int] | None = None):
    """Open a frame source from a command-line spec (see the module docstring).

    fps, size: what to ask a device for (width, height); the default of a synthetic camera.
    Raises InputError naming the spec when it cannot be opened.
    """
    spec = str(spec).strip()
    if spec.lower().startswith("synthetic:") or spec.lower() == "synthetic":
        return _parse_synthetic(spec if ":" in spec else "synthetic:", fps, size)
    return OpenCVSource(spec, fps, size)
