"""Record several cameras at once into a session: videos, per-frame host timestamps, manifest.

One reader thread per camera takes each frame from its source the moment it arrives and stamps it
with the host's monotonic clock (`time.monotonic`, shared by all cameras, seconds from the start
of the recording); a writer thread per camera encodes it. Between them a bounded queue absorbs
encoder hiccups; a frame that finds the queue full is dropped and counted. A frame that arrives
more than 1.5 frame periods after the one before is counted late (the camera or the bus lost
time). Files are written under temporary names and renamed when complete, so a session holds
only finished, playable files:

    SESSION/videos/cam01.mp4            SESSION/timestamps/cam01.csv (one time per frame, seconds)
    SESSION/session.toml                (written last)

Recording ends at `duration_s`, when every source has ended, on `stop.set()`, on Ctrl-C, or when
the disk is nearly full; every camera's files are finalized in all of these cases.
"""
from __future__ import annotations

import importlib
import os
import queue
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from epicap.errors import InputError

__all__ = ["RecordOptions", "CameraRecord", "RecordResult", "record_session"]

_END = object()


@dataclass(frozen=True)
class RecordOptions:
    """How to record.

    duration_s: stop after this many seconds (None: until every source ends or Ctrl-C).
    fps: frame rate written into the videos (default: each source's own, else 30).
    size: (width, height) of the videos; frames of another size are resized (default: each
        camera's first frame).
    codec: FourCC of the videos (default "mp4v", playable everywhere OpenCV writes .mp4).
    queue_frames: frames buffered per camera between reader and writer (default 120).
    min_free_mb: stop when the disk has less free space than this (default 200 MB).
    preview: show a live mosaic of the cameras (needs a display; q or Esc stops).
    """

    duration_s: float | None = None
    fps: float | None = None
    size: tuple[int, int] | None = None
    codec: str = "mp4v"
    queue_frames: int = 120
    min_free_mb: float = 200.0
    preview: bool = False


@dataclass
class CameraRecord:
    """What one camera recorded. frames: frames written. dropped: frames lost because the writer
    fell behind. late: frames that came more than 1.5 periods after the previous one. skipped:
    frames the source itself reports losing (synthetic cameras know). error: why the camera
    stopped early (a disconnect, a write failure), or None."""

    name: str
    source: str
    video: str
    timestamps: str
    fps: float
    width: int = 0
    height: int = 0
    frames: int = 0
    dropped: int = 0
    late: int = 0
    skipped: int = 0
    error: str | None = None


@dataclass
class RecordResult:
    """The recording: per-camera records, how long it ran and why it stopped."""

    cameras: list[CameraRecord]
    duration_s: float
    stop_reason: str
    interrupted: bool = False
    latest: dict = field(default_factory=dict, repr=False)


class _Camera:
    """Reader and writer threads of one camera."""

    def __init__(self, source, rec: CameraRecord, out_dir: Path, opt: RecordOptions,
                 t0: float, stop: threading.Event):
        self.source, self.rec, self.opt, self.t0, self.stop = source, rec, opt, t0, stop
        self.queue: queue.Queue = queue.Queue(maxsize=opt.queue_frames)
        self.video_tmp = out_dir / f"videos/{rec.name}.partial.mp4"
        self.stamps_tmp = out_dir / f"timestamps/{rec.name}.partial.csv"
        self.latest: np.ndarray | None = None
        self.reader = threading.Thread(target=self._read, name=f"read-{rec.name}", daemon=True)
        self.writer = threading.Thread(target=self._write, name=f"write-{rec.name}", daemon=True)

    def _read(self) -> None:
        period = 1.0 / self.rec.fps
        last = None
        try:
            while not self.stop.is_set():
                ok, frame = self.source.read()
                now = time.monotonic() - self.t0
                if not ok:
                    if not getattr(self.source, "exhausted", False):
                        self.rec.error = (f"camera {self.rec.name} ({self.rec.source}) stopped "
                                          f"sending frames (disconnected?)")
                    break
                if last is not None and now - last > 1.5 * period:
                    self.rec.late += 1
                last = now
                self.latest = frame
                try:
                    self.queue.put_nowait((frame, now))
                except queue.Full:
                    self.rec.dropped += 1
        except Exception as e:  # a driver error must not take the other cameras down
            self.rec.error = f"camera {self.rec.name} ({self.rec.source}): {e}"
        finally:
            self.rec.skipped = int(getattr(self.source, "skipped", 0))
            self.queue.put(_END)

    def _write(self) -> None:
        import cv2

        writer = None
        stamps = None
        try:
            while True:
                item = self.queue.get()
                if item is _END:
                    break
                frame, ts = item
                if writer is None:
                    w, h = self.opt.size or (frame.shape[1], frame.shape[0])
                    self.rec.width, self.rec.height = int(w), int(h)
                    self.video_tmp.parent.mkdir(parents=True, exist_ok=True)
                    self.stamps_tmp.parent.mkdir(parents=True, exist_ok=True)
                    writer = cv2.VideoWriter(str(self.video_tmp),
                                             cv2.VideoWriter_fourcc(*self.opt.codec),
                                             self.rec.fps, (int(w), int(h)))
                    if not writer.isOpened():
                        raise OSError(f"OpenCV cannot write {self.video_tmp} with codec "
                                      f"{self.opt.codec}")
                    stamps = open(self.stamps_tmp, "w", encoding="utf-8")
                    stamps.write("# seconds since the start of the recording "
                                 "(host monotonic clock), one line per frame\n")
                if frame.ndim == 2:
                    frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
                if (frame.shape[1], frame.shape[0]) != (self.rec.width, self.rec.height):
                    frame = cv2.resize(frame, (self.rec.width, self.rec.height),
                                       interpolation=cv2.INTER_AREA)
                writer.write(frame)
                stamps.write(f"{ts:.6f}\n")
                self.rec.frames += 1
        except OSError as e:
            self.rec.error = f"camera {self.rec.name}: writing failed ({e.strerror or e})"
            self.stop.set()
            while self.reader.is_alive() or not self.queue.empty():  # let the reader finish
                try:
                    self.queue.get(timeout=0.1)
                except queue.Empty:
                    pass
        finally:
            if writer is not None:
                writer.release()
            if stamps is not None:
                stamps.close()

    def finalize(self, out_dir: Path) -> None:
        """Give the finished files their final names (nothing when no frame was written)."""
        if self.rec.frames == 0:
            for p in (self.video_tmp, self.stamps_tmp):
                p.unlink(missing_ok=True)
            return
        os.replace(self.video_tmp, out_dir / self.rec.video)
        os.replace(self.stamps_tmp, out_dir / self.rec.timestamps)


def record_session(sources: Sequence, names: Sequence[str], out_dir: str | os.PathLike,
                   options: RecordOptions | None = None, stop: threading.Event | None = None,
                   labels: Sequence[str] | None = None,
                   on_tick: Callable[[RecordResult], None] | None = None) -> RecordResult:
    """Record `sources` into the session folder `out_dir` and write its manifest.

    sources: C opened frame sources (see `epicap.capture.sources`), released here at the end.
    names: C camera names. labels: C descriptions of the sources for messages (default names).
    out_dir: a folder that does not exist yet or is empty (an existing session is never touched).
    options: RecordOptions. stop: set it (from any thread) to end the recording.
    on_tick: called about ten times a second with the running result (progress, preview).
    Returns the RecordResult; raises InputError when no camera delivered a single frame.
    """
    importlib.import_module("cv2")  # imported once here, not by eight threads at once

    from epicap.session.manifest import CameraEntry, SessionManifest

    opt = options or RecordOptions()
    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(f"{out}: exists and is not empty; record into a new session folder")
    if len(names) != len(sources) or len(set(names)) != len(names):
        raise InputError(f"need {len(sources)} unique camera names, got {list(names)}")
    from epicap.session.io import native_path
    from epicap.session.names import check_camera_name

    for n in names:
        check_camera_name(n, "--names")
    native_path(out.absolute(), "session folder")  # OpenCV writes the videos: UTF-8 paths only
    labels = list(labels or names)
    stop = stop or threading.Event()
    out.mkdir(parents=True, exist_ok=True)
    records = [CameraRecord(n, lab, f"videos/{n}.mp4", f"timestamps/{n}.csv",
                            float(opt.fps or getattr(s, "fps", None) or 30.0))
               for n, s, lab in zip(names, sources, labels)]
    t0 = time.monotonic()
    cams = [_Camera(s, r, out, opt, t0, stop) for s, r in zip(sources, records)]
    result = RecordResult(records, 0.0, "every source ended")
    for c in cams:
        c.writer.start()
        c.reader.start()
    next_disk_check = 0.0
    try:
        try:  # Ctrl-C anywhere in the loop, its condition included, stops the recording
            while any(c.reader.is_alive() for c in cams):
                time.sleep(0.1)
                elapsed = time.monotonic() - t0
                result.duration_s = elapsed
                if opt.duration_s is not None and elapsed >= opt.duration_s:
                    result.stop_reason = f"duration {opt.duration_s:g} s reached"
                    break
                if stop.is_set():
                    result.stop_reason = "stopped"
                    break
                if elapsed >= next_disk_check:
                    next_disk_check = elapsed + 1.0
                    free_mb = shutil.disk_usage(out).free / 2**20
                    if free_mb < opt.min_free_mb:
                        result.stop_reason = (f"disk nearly full ({free_mb:.0f} MB left in "
                                              f"{out}): stopped, everything recorded so far is "
                                              "kept")
                        break
                if on_tick is not None:
                    result.latest = {c.rec.name: c.latest for c in cams}
                    on_tick(result)
        except KeyboardInterrupt:
            result.interrupted = True
            result.stop_reason = "stopped by Ctrl-C"
    finally:
        stop.set()
        _join_all(cams)
        for c, s in zip(cams, sources):
            try:
                s.release()
            except Exception:  # noqa: BLE001 - a failing driver release must not lose files
                pass
            c.finalize(out)
    result.duration_s = time.monotonic() - t0
    good = [r for r in records if r.frames > 0]
    if not good:
        _remove_empty(out)
        errors = "; ".join(r.error for r in records if r.error) or "no frame arrived"
        raise InputError(f"no camera delivered a frame ({errors})")
    entries = [CameraEntry(name=r.name, fps=r.fps, frame_count=r.frames, width=r.width,
                           height=r.height, video=r.video, timestamps=r.timestamps)
               for r in good]
    try:
        SessionManifest(entries, source="record").save(out)
    except InputError as e:  # a recording cannot be repeated: keep it, say how to use it
        videos = " ".join(str(out / r.video) for r in good)
        raise InputError(f"{e}; the recorded videos are kept: make a session of them with "
                         f"`epicap ingest --out NEW_SESSION {videos}`") from None
    return result


def _join_all(cams: list[_Camera]) -> None:
    """Wait for every thread, even through further Ctrl-C presses (files must be finalized)."""
    for c in cams:
        for th in (c.reader, c.writer):
            while th.is_alive():
                try:
                    th.join(timeout=0.5)
                except KeyboardInterrupt:
                    continue


def _remove_empty(out: Path) -> None:
    for sub in ("videos", "timestamps"):
        d = out / sub
        if d.is_dir() and not any(d.iterdir()):
            d.rmdir()
    if out.is_dir() and not any(out.iterdir()):
        out.rmdir()


def timestamps_monotonic(ts: np.ndarray) -> bool:
    """True when per-frame timestamps (T,) strictly increase."""
    return bool(np.all(np.diff(np.asarray(ts, dtype=np.float64)) > 0))
