"""Sync accuracy: synthetic offsets (known truth) and the Pose2Sim demo (synchronized: 0).

Run: python benchmarks/sync.py   (target: every offset within 0.5 frame)
"""
import sys
import time
from pathlib import Path

# the benchmark reuses the test suite's scenes and real-data helpers: run from a checkout
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

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


def biased() -> None:
    from epicap.synthetic import SceneOptions, load_clip, make_scene, ring_rig

    rows = []
    clip = load_clip("walk", fps=60, num_frames=240, turn_deg_per_s=40)
    for bias in (0.0, 8.0, 15.0):
        for seed in range(2):
            scene = make_scene(clip, ring_rig(4), SceneOptions(noise_px=2.0, bias_px=bias,
                                                               offsets_frames=TRUTH, seed=seed))
            result = estimate_offsets(scene.keypoints.keypoints, 60.0, scene.keypoints.cameras)
            err = result.offset_frames - TRUTH
            rows.append((bias, seed, " ".join(f"{e:+.2f}" for e in err[1:]),
                         round(float(np.abs(err).max()), 3),
                         round(min(c.confidence for c in result.cameras), 2)))
    print("\nwalk clip (periodic), 2 px noise, constant bias per camera and joint")
    print(format_table(rows, ["bias px", "seed", "errors (frames)", "max |error|",
                              "min confidence"]))


def openpose_demo() -> None:
    import json
    import zipfile

    from epicap.assets import fetch_wheel
    from tests.keypoints.pose2sim_demo import CAMERAS, OPENPOSE_DIR

    tracks = []
    with zipfile.ZipFile(fetch_wheel("pose2sim-0.8.4")) as z:
        for cam in CAMERAS:
            frames = []
            for name in sorted(n for n in z.namelist() if n.startswith(OPENPOSE_DIR.format(
                    cam=cam)) and n.endswith(".json")):
                people = [np.reshape(p["pose_keypoints_2d"], (-1, 3))
                          for p in json.loads(z.read(name))["people"]]
                frames.append(max(people, key=lambda p: p[:, 2].sum()) if people
                              else np.zeros((25, 3)))
            tracks.append(np.array(frames))
    kp = np.stack([t[:min(map(len, tracks))] for t in tracks]).astype(np.float32)
    kp[kp[..., 2] <= 0] = (np.nan, np.nan, 0.0)
    result = estimate_offsets(kp, 60.0, list(CAMERAS))
    print("\nPose2Sim demo, its OpenPose BODY_25B JSON (synchronized, so the truth is 0)")
    print(format_table([(c.name, round(c.offset_frames, 2), round(c.std_frames, 2),
                         round(c.confidence, 2)) for c in result.cameras],
                       ["camera", "offset (frames)", "std (frames)", "confidence"]))


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
    print("\nPose2Sim demo, MediaPipe (synchronized, so the truth is 0)")
    print(format_table([(c.name, round(c.offset_frames, 2), c.coarse_frames and
                         round(c.coarse_frames, 2), round(c.std_frames, 2),
                         round(c.confidence, 2)) for c in result.cameras],
                       ["camera", "offset (frames)", "coarse", "std (frames)", "confidence"]))


if __name__ == "__main__":
    synthetic()
    biased()
    openpose_demo()
    demo()
