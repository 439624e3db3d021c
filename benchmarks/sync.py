"""Sync accuracy: synthetic offsets (known truth) and the Pose2Sim demo (synchronized: 0).

Run: python benchmarks/sync.py   (target: every offset within 0.5 frame)
     python benchmarks/sync.py --long   (only the long recordings: the search on a window of
                                         the recording against all of it, same run)
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


def long_recordings(whole_up_to_s: float = 60.0) -> None:
    """4 cameras, 4 people walking (synthetic, true identities, 2 px), 30 fps, offsets up to 0.7
    s: `estimate_offsets` on the busiest 30 s (`SyncOptions.window_s`, the default) against the
    search over the whole recording (window_s 0, the baseline; recordings up to
    `whole_up_to_s` long, the longer take minutes)."""
    from epicap.capture.sync import SyncOptions
    from epicap.capture.sync_people import as_joints
    from epicap.synthetic import ring_rig
    from epicap.synthetic.people import PeopleOptions, make_people_scene

    truth = np.array([0.0, 7.3, -12.6, 21.2])
    cams = ring_rig(4, 6.0, 2.0, 1000.0, (1280, 720), seed=1)
    rows = []
    for seconds in (30, 60, 180):
        scene = make_people_scene(cams, int(30 * seconds), PeopleOptions(
            num_people=4, noise_px=2.0, seed=3, offsets_frames=truth.tolist()))
        kp = as_joints(scene.keypoints.keypoints)
        for window in (0.0, SyncOptions().window_s):
            if window == 0 and seconds > whole_up_to_s:
                continue
            start = time.perf_counter()
            result = estimate_offsets(kp, 30.0, cams.names, options=SyncOptions(window_s=window))
            err = result.offset_frames - truth
            rows.append((f"{seconds} s", "all of it (baseline)" if window == 0 else
                         f"busiest {window:.0f} s", " ".join(f"{e:+.3f}" for e in err[1:]),
                         round(float(max(c.std_frames for c in result.cameras[1:])), 3),
                         round(time.perf_counter() - start, 1)))
    print("\nlong recordings: 4 cameras, 4 people walking, 30 fps, 2 px, offsets +7.3 -12.6 "
          "+21.2 frames")
    print(format_table(rows, ["recording", "searched", "errors (frames)", "std max (frames)",
                              "seconds"]))


if __name__ == "__main__":
    if "--long" in sys.argv[1:]:
        long_recordings()
        sys.exit(0)
    synthetic()
    biased()
    openpose_demo()
    demo()
    long_recordings()
