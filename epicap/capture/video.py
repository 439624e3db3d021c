"""Read what a video holds with OpenCV: size, frame rate, frame count and per-frame timestamps.

Container metadata can lie: `CAP_PROP_FRAME_COUNT` is an estimate from the duration, a truncated
file ends early, and a variable-frame-rate file (phones, screen recorders) has no single fps. With
`read_frames=True` every frame is decoded (`grab`) and its presentation time read from
`CAP_PROP_POS_MSEC`, which gives the true count and the timestamps.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from epicap.errors import InputError

__all__ = ["VideoInfo", "probe_video", "timestamps_are_uniform", "quiet_ffmpeg",
           "VIDEO_EXTENSIONS"]

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".m4v", ".webm", ".mpg", ".mpeg", ".wmv")


@dataclass
class VideoInfo:
    """What a video holds.

    width, height: pixels. fps: frames per second (the container's, or from the timestamps when
    it has none). frame_count: frames decoded (or the container's estimate without reading).
    timestamps: (T,) seconds of each frame from the first, or None when not read.
    declared_frames: the container's frame count.
    """

    path: Path
    width: int
    height: int
    fps: float
    frame_count: int
    declared_frames: int
    timestamps: np.ndarray | None = None

    @property
    def uniform(self) -> bool:
        """True when the timestamps (if read) are i / fps within a quarter of a frame."""
        return self.timestamps is None or timestamps_are_uniform(self.timestamps, self.fps)

    @property
    def truncated(self) -> bool:
        """True when fewer frames decoded than the container declares (beyond rounding)."""
        return self.timestamps is not None and self.frame_count < self.declared_frames - 1


def timestamps_are_uniform(timestamps: np.ndarray, fps: float, tolerance: float = 0.25) -> bool:
    """True when timestamps (T,) seconds lie at t0 + i / fps within `tolerance` frame periods."""
    ts = np.asarray(timestamps, dtype=np.float64)
    if ts.size < 2:
        return True
    expected = ts[0] + np.arange(ts.size) / fps
    return bool(np.max(np.abs(ts - expected)) <= tolerance / fps)


def quiet_ffmpeg() -> None:
    """Keep FFmpeg's own log (e.g. "moov atom not found" for a truncated MP4) off stderr.

    epicap says what is wrong with a video in its own one-line error. OpenCV reads
    OPENCV_FFMPEG_LOGLEVEL once, when it first opens a file with FFmpeg: call this before. A
    level the user set is kept (e.g. OPENCV_FFMPEG_LOGLEVEL=32 to see FFmpeg's warnings).
    """
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET


def probe_video(path: str | os.PathLike, read_frames: bool = True, progress=None) -> VideoInfo:
    """Size, fps, frame count and (with read_frames) per-frame timestamps of a video file.

    path: a video file OpenCV can read.
    read_frames: decode every frame to count them and read their timestamps (slow for long
        videos, exact); otherwise trust the container's metadata.
    progress: optional callable(n) called with the number of frames read so far.
    Raises InputError naming the file when it cannot be opened or holds no frame.
    """
    import cv2

    from epicap.session.io import native_path

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such video file")
    quiet_ffmpeg()
    cap = cv2.VideoCapture(native_path(path, "video"))
    try:
        if not cap.isOpened():
            raise InputError(f"{path}: OpenCV cannot open it as a video (truncated, or not a "
                             "video?)")
        width = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        declared = max(int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0), 0)
        stamps = None
        count = declared
        if read_frames:
            ms = []
            while cap.grab():
                ms.append(cap.get(cv2.CAP_PROP_POS_MSEC))
                if progress is not None and len(ms) % 50 == 0:
                    progress(len(ms))
            count = len(ms)
            if count == 0:
                raise InputError(f"{path}: no frame could be decoded (truncated or corrupt video)")
            stamps = np.asarray(ms, dtype=np.float64) / 1000.0
            stamps -= stamps[0]
            if count > 1 and (np.diff(stamps) <= 0).any():
                stamps = None  # the backend gave no usable times: fall back on the fps
    finally:
        cap.release()
    if width <= 0 or height <= 0:
        raise InputError(f"{path}: the video reports no image size")
    if not (np.isfinite(fps) and 0 < fps < 1000):
        if stamps is not None and count > 1 and stamps[-1] > 0:
            fps = (count - 1) / stamps[-1]
        else:
            raise InputError(f"{path}: the video declares no frame rate; give it with --fps")
    return VideoInfo(path, width, height, fps, count, declared, stamps)
