"""Make a session from existing videos (one per camera): frame counts, fps, size, timestamps.

Every video is decoded once with OpenCV to count its frames and read each frame's time; a video
with a variable frame rate gets a per-frame timestamps file. The videos are copied into
SESSION/videos/ (the default: the session is self-contained) or, with --reference, left where
they are and referenced by absolute path (marked external in session.toml).

A video that cannot be read stops the command before anything is written; a truncated one is
kept with the frames that decode, and a warning names it.

Example:
  epicap ingest --out trial1 cam01.mp4 cam02.mp4 cam03.mp4 cam04.mp4
  epicap ingest --out trial1 --reference --names left right /data/a.mov /data/b.mov
"""
from __future__ import annotations


def add_arguments(parser) -> None:
    parser.add_argument("videos", nargs="+", metavar="VIDEO", help="one video per camera")
    parser.add_argument("--out", required=True, metavar="SESSION", help="the session folder")
    parser.add_argument("--names", nargs="+", metavar="NAME",
                        help="camera names, one per video (default: the file names)")
    parser.add_argument("--reference", action="store_true",
                        help="reference the videos where they are instead of copying them")
    parser.add_argument("--fps", type=float,
                        help="frame rate to use instead of the one the videos declare")
    parser.add_argument("--force", action="store_true", help="replace an existing session.toml")


def run(args) -> int:
    from epicap.capture.ingest import ingest_videos
    from epicap.console import format_table, progress, warn

    bar = progress(total=None, desc="reading", unit="frame")
    frames_seen: dict[str, int] = {}

    def tick(name: str, frames_read: int) -> None:
        bar.set_description(f"reading {name}")
        bar.update(frames_read - frames_seen.get(name, 0))
        frames_seen[name] = frames_read

    try:
        found = ingest_videos(args.videos, args.out, args.names, copy=not args.reference,
                              fps=args.fps, force=args.force, progress=tick)
    finally:
        bar.close()
    for cam in found:
        if cam.warning:
            warn(cam.warning)
    rows = [(c.name, f"{c.info.width}x{c.info.height}", c.info.frame_count, round(c.info.fps, 3),
             "variable (stored)" if c.stored_timestamps else "uniform") for c in found]
    print(format_table(rows, ["camera", "size", "frames", "fps", "frame times"]))
    print(f"{args.out}: session of {len(found)} camera{'s' if len(found) != 1 else ''} "
          f"({'referenced' if args.reference else 'copied'} videos)")
    return 0
