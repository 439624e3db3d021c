"""Benchmark `epicap record`: C synthetic cameras at a given rate, nothing may be lost.

Each synthetic camera makes frames on its own clock with a 4-frame driver buffer (as V4L2) and
draws its frame index into each frame. After recording, every video is decoded and its indices
compared with what the camera produced; timestamps must strictly increase.

    python benchmarks/record.py --cameras 4 --fps 30 --seconds 10 --size 640 480
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np


def main() -> None:
    import cv2

    from epicap.capture.recorder import record_session
    from epicap.capture.sources import SyntheticCamera, decode_counter
    from epicap.console import format_table
    from epicap.session.manifest import SessionManifest

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--cameras", type=int, default=4)
    p.add_argument("--fps", type=float, default=30.0)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--size", nargs=2, type=int, default=(640, 480))
    args = p.parse_args()
    frames = int(round(args.seconds * args.fps))
    cams = [SyntheticCamera(args.fps, tuple(args.size), frames=frames)
            for _ in range(args.cameras)]
    names = [f"cam{i + 1:02d}" for i in range(args.cameras)]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "session"
        t0 = time.perf_counter()
        res = record_session(cams, names, out)
        wall = time.perf_counter() - t0
        man = SessionManifest.load(out)
        rows = []
        for cam, rec in zip(cams, res.cameras):
            ts = man.timestamps(out, rec.name)
            cap = cv2.VideoCapture(str(man.video_path(out, rec.name)))
            ids = []
            while True:
                ok, f = cap.read()
                if not ok:
                    break
                ids.append(decode_counter(f))
            intact = ids == list(range(cam.produced))
            dt = np.diff(ts)
            rows.append((rec.name, cam.produced, rec.frames, cam.skipped, rec.dropped, rec.late,
                         bool((dt > 0).all()), intact, float(dt.mean() * 1000),
                         float(dt.max() * 1000)))
    print(f"{args.cameras} synthetic cameras, {args.fps:g} fps, {args.size[0]}x{args.size[1]}, "
          f"{args.seconds:g} s ({frames} frames each); wall {wall:.2f} s")
    print(format_table(rows, ["camera", "produced", "written", "lost at source", "dropped",
                              "late", "stamps monotonic", "all frames in video", "mean dt ms",
                              "max dt ms"]))


if __name__ == "__main__":
    main()
