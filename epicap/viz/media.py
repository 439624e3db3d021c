"""Writing pictures and videos atomically (PNG, MP4 through OpenCV), and text on pictures."""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterable

import numpy as np

from epicap.errors import InputError
from epicap.session.io import atomic_write

__all__ = ["write_png", "encode_png", "write_mp4", "put_label", "label_size", "legend_strip",
           "titled"]


def encode_png(rgb: np.ndarray) -> bytes:
    """PNG bytes of an (H, W, 3) uint8 RGB image."""
    import cv2

    ok, buf = cv2.imencode(".png", np.ascontiguousarray(rgb[..., ::-1]))
    if not ok:
        raise ValueError("PNG encoding failed")
    return buf.tobytes()


def write_png(path: str | os.PathLike, rgb: np.ndarray) -> Path:
    """Write an (H, W, 3) uint8 RGB image as a PNG, atomically. Returns the path."""
    with atomic_write(path) as f:
        f.write(encode_png(rgb))
    return Path(path)


def write_mp4(path: str | os.PathLike, frames: Iterable[np.ndarray], fps: float) -> int:
    """Write RGB frames (each (H, W, 3) uint8, all one size) as an MP4 (MPEG-4 part 2), atomically.

    path: the .mp4 to write. fps: frames per second. Returns the number of frames written.
    InputError if the folder is not writable or OpenCV cannot encode MP4 here.
    """
    import cv2

    from epicap.session.io import native_path

    path = Path(path)
    native_path(path.absolute(), "video")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".mp4", dir=path.parent)
    except OSError as e:
        raise InputError(f"{path}: cannot write here ({e.strerror or e})") from None
    os.close(fd)
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(tmp, 0o666 & ~mask)  # mkstemp makes 0600; a video is an ordinary file
    writer, n = None, 0
    try:
        for rgb in frames:
            if writer is None:
                h, w = rgb.shape[:2]
                writer = cv2.VideoWriter(tmp, cv2.VideoWriter_fourcc(*"mp4v"), float(fps), (w, h))
                if not writer.isOpened():
                    raise InputError(f"{path}: OpenCV cannot write MP4 video on this machine")
            writer.write(np.ascontiguousarray(rgb[..., ::-1]))
            n += 1
        if writer is None:
            raise InputError(f"{path}: no frames to write")
        writer.release()
        writer = None
        os.replace(tmp, path)
    except OSError as e:
        raise InputError(f"{path}: writing failed ({e.strerror or e})") from None
    finally:
        if writer is not None:
            writer.release()
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    return n


def _stroke(scale: float) -> int:
    return max(1, int(round(2 * scale)))


def label_size(text: str, scale: float = 0.45) -> tuple[int, int]:
    """(width, height) in pixels of `put_label`'s text above its baseline, halo included."""
    import cv2

    (w, h), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, _stroke(scale))
    return w + 2 * _stroke(scale), h + 2 * _stroke(scale)


def legend_strip(width: int, entries: list[tuple[tuple[float, float, float] | None, str]],
                 height: int = 36, scale: float = 0.55) -> np.ndarray:
    """(height, width, 3) uint8 RGB white strip: a colour swatch (RGB 0-1; None: no swatch) and
    its text for each entry, left to right."""
    import cv2

    out = np.full((height, int(width), 3), 255, np.uint8)
    x, y = 12, height // 2
    for rgb, text in entries:
        if rgb is not None:
            colour = tuple(int(round(255 * c)) for c in rgb)
            cv2.rectangle(out, (x, y - 7), (x + 22, y + 7), colour, -1)
            x += 30
        put_label(out, text, (x, y + 6), (0, 0, 0), scale)
        x += label_size(text, scale)[0] + 24
    return out


def titled(rgb: np.ndarray, title: str, scale: float = 0.7) -> np.ndarray:
    """A copy of an RGB picture with `title` written in its top-left corner."""
    out = np.ascontiguousarray(rgb).copy()
    put_label(out, title, (12, 12 + label_size(title, scale)[1]), (0, 0, 0), scale)
    return out


def put_label(rgb: np.ndarray, text: str, xy, color=(0, 0, 0), scale: float = 0.45) -> None:
    """Write `text` on an RGB image in place, its lower-left corner at pixel xy, with a white halo
    so it reads on any background. color: RGB 0-255. Skipped when xy is NaN.

    The halo is the same text, stroke and advance, drawn shifted around it (a thicker stroke
    would advance further per letter and drift out of register with the text).
    """
    import cv2

    if not np.isfinite(xy).all():
        return
    org = (int(round(xy[0])), int(round(xy[1])))
    stroke = _stroke(scale)
    # cv2 draws in place on the array's channels as given: pass RGB colours
    for dx in (-stroke, 0, stroke):
        for dy in (-stroke, 0, stroke):
            if dx or dy:
                cv2.putText(rgb, text, (org[0] + dx, org[1] + dy), cv2.FONT_HERSHEY_SIMPLEX,
                            scale, (255, 255, 255), stroke, cv2.LINE_AA)
    cv2.putText(rgb, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, tuple(int(c) for c in color),
                stroke, cv2.LINE_AA)
