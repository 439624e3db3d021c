"""Record several cameras at once into a new session, with a host timestamp for every frame.

Each --camera is a device index (0, 1, ...), a stream URL (rtsp://..., http://...) or a video
file (played at its own rate, like a live camera); `synthetic:30` is a fake 30 fps camera with
its frame number drawn in, for trying things out. One thread per camera reads frames as they
come and stamps them with the host's monotonic clock; each camera is written to
SESSION/videos/<name>.mp4 with SESSION/timestamps/<name>.csv beside it, and SESSION/session.toml
last. Stop with --duration or Ctrl-C: every file is finalized and playable either way. Dropped
(the writer fell behind) and late frames (more than 1.5 frame periods after the previous one) are
counted per camera and reported. A camera that disconnects is reported by name; what it recorded
is kept. An existing session is never overwritten.

Example:
  epicap record --out trial1 --camera 0 --camera 1 --fps 30 --size 1280 720 --duration 60
  epicap record --out try --camera synthetic:30 --camera synthetic:30 --duration 5
"""
from __future__ import annotations

from epicap.errors import InputError


def add_arguments(parser) -> None:
    parser.add_argument("--out", required=True, metavar="SESSION",
                        help="a new session folder (must not exist or be empty)")
    parser.add_argument("--camera", action="append", required=True, metavar="SRC",
                        help="a device index, URL or video file; repeat for each camera")
    parser.add_argument("--names", nargs="+", metavar="NAME",
                        help="camera names, one per --camera (default cam01, cam02, ...)")
    parser.add_argument("--duration", type=float, metavar="SECONDS",
                        help="stop after this long (default: until Ctrl-C or every source ends)")
    parser.add_argument("--fps", type=float, help="frame rate to ask the cameras for and write")
    parser.add_argument("--size", nargs=2, type=int, metavar=("W", "H"),
                        help="image size to ask the cameras for and write")
    parser.add_argument("--codec", default="mp4v", help="FourCC of the videos (default mp4v)")
    parser.add_argument("--preview", action="store_true",
                        help="show the cameras live (needs a display; q or Esc stops)")


def run(args) -> int:
    from pathlib import Path

    from epicap.capture.recorder import RecordOptions, record_session
    from epicap.capture.sources import open_source
    from epicap.console import format_table, warn

    out = Path(args.out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(f"{out}: exists and is not empty; record into a new session folder")
    names = args.names or [f"cam{i + 1:02d}" for i in range(len(args.camera))]
    if len(names) != len(args.camera):
        raise InputError(f"--names: {len(names)} names for {len(args.camera)} cameras")
    if args.duration is not None and not args.duration > 0:
        raise InputError(f"--duration must be positive, got {args.duration}")
    if args.fps is not None and not args.fps > 0:
        raise InputError(f"--fps must be positive, got {args.fps}")
    if len(args.codec) != 4:
        raise InputError(f"--codec must be a four-character code such as mp4v, got {args.codec!r}")
    size = tuple(args.size) if args.size else None
    sources = []
    try:
        for spec in args.camera:
            sources.append(open_source(spec, args.fps, size))
    except InputError:
        for s in sources:
            s.release()
        raise
    options = RecordOptions(duration_s=args.duration, fps=args.fps, size=size, codec=args.codec,
                            preview=args.preview)
    preview = _Preview() if args.preview else None
    print(f"recording {len(sources)} cameras into {out}"
          + ("" if args.duration else " (Ctrl-C stops)"), flush=True)
    try:
        result = record_session(sources, names, out, options, labels=args.camera,
                                on_tick=preview)
    finally:
        if preview is not None:
            preview.close()
    if preview is not None and preview.stopped_by_key:
        result.stop_reason = "stopped from the preview window (q)"
    rows = [(r.name, r.source, r.frames, r.dropped, r.late, r.skipped,
             f"{r.width}x{r.height}" if r.frames else "-", "ok" if r.error is None else "FAILED")
            for r in result.cameras]
    print(format_table(rows, ["camera", "source", "frames", "dropped", "late", "lost at source",
                              "size", "status"]))
    print(f"{out}: {result.duration_s:.1f} s recorded, {result.stop_reason}")
    for r in result.cameras:
        if r.error:
            warn(f"{r.error}; its {r.frames} frames are kept in {out / r.video}"
                 if r.frames else f"{r.error}; nothing recorded from it")
        elif r.dropped:
            warn(f"camera {r.name}: {r.dropped} frames dropped (the disk or encoder was too slow)")
    return 0


class _Preview:
    """A live mosaic of the latest frames in an OpenCV window; q or Esc stops the recording."""

    def __init__(self):
        self.enabled = True
        self.stopped_by_key = False
        self.window_open = False

    def __call__(self, result) -> None:
        import cv2
        import numpy as np

        if not self.enabled:
            return
        frames = [f for f in result.latest.values() if f is not None]
        if not frames:
            return
        h = 240
        tiles = [cv2.resize(f, (max(1, int(f.shape[1] * h / f.shape[0])), h)) for f in frames]
        if not self.window_open:
            _system_fonts_for_qt()
            self.window_open = True
        try:
            cv2.imshow("epicap record", np.hstack(tiles))
            key = cv2.waitKey(1) & 0xFF
        except cv2.error:
            from epicap.console import warn

            warn("no display for --preview; recording without it")
            self.enabled = False
            return
        if key in (ord("q"), 27):
            self.stopped_by_key = True
            raise KeyboardInterrupt  # the recorder's clean stop

    def close(self) -> None:
        if self.enabled:
            import cv2

            try:
                cv2.destroyAllWindows()
            except cv2.error:
                pass


def _system_fonts_for_qt() -> None:
    """Point OpenCV's Qt window at the system's fonts.

    On import, cv2 sets QT_QPA_FONTDIR to a folder inside the wheel, which ships no fonts, and
    Qt then warns about it on every frame.
    """
    import os

    if os.path.isdir(os.environ.get("QT_QPA_FONTDIR", "")):
        return
    for fonts in ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts"):
        if os.path.isdir(fonts):
            os.environ["QT_QPA_FONTDIR"] = fonts
            return
