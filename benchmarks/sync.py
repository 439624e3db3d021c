"""Sync accuracy: synthetic offsets (known truth) and the Pose2Sim demo (synchronized: 0).

Run: python benchmarks/sync.py   (target: every offset within 0.5 frame)
"""
import time

import numpy as np

from epicap.capture.sync import estimate_offsets
from epicap.console import format_table
from tests.capture.sync_scene import offset_keypoints

TRUTH = [0.0, -7.0, 3.0, 12.4]


def synthetic() -> None:
    rows = []
    for noise in (0.5, 1.0, 2.0, 3.0):
        for seed in range(3):
            kp = offset_keypoints(TRUTH, frames=240, noise_px=noise, seed=seed)
            start = time.perf_counter()
            result = estimate_offsets(kp, 60.0, ["c0", "c1", "c2", "c3"])
            err = result.offset_frames - TRUTH
            rows.append((noise, seed, " ".join(f"{e:+.2f}" for e in err[1:]),
                         round(float(np.abs(err).max()), 3),
                         round(min(c.confidence for c in result.cameras), 2),
                         round(time.perf_counter() - start, 2)))
    print("synthetic, truth -7, +3, +12.4 frames at 60 fps, 240 frames, 17 joints")
    print(format_table(rows, ["noise px", "seed", "errors (frames)", "max |error|",
                              "min confidence", "seconds"]))


def demo() -> None:
    import tempfile
    from pathlib import Path

    from epicap.capture.sync import sync_session
    from epicap.keypoints.mediapipe_detector import DetectorOptions, detect_session
    from epicap.keypoints.models import pose_model_path
    from tests.keypoints.pose2sim_demo import make_session

    with tempfile.TemporaryDirectory() as tmp:
        session = make_session(Path(tmp) / "demo")
        detect_session(session, pose_model_path(), DetectorOptions(num_poses=1)).keypoints.save(
            session / "keypoints2d.npz")
        result = sync_session(session, method="keypoints")
    print("\nPose2Sim demo (synchronized, so the truth is 0)")
    print(format_table([(c.name, round(c.offset_frames, 2), c.coarse_frames and
                         round(c.coarse_frames, 2), round(c.confidence, 2))
                        for c in result.cameras],
                       ["camera", "offset (frames)", "coarse", "confidence"]))


if __name__ == "__main__":
    synthetic()
    demo()
