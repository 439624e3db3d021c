"""The Pose2Sim demo's real data for tests: 4 videos (0.10.49 wheel) and OpenPose JSON (0.8.4).

Both wheels are pinned and checksummed by `epicap.assets`; the members are extracted once into
`cache_dir()/pose2sim-demo`.
"""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from epicap.assets import cache_dir, fetch_wheel

CAMERAS = ("cam01", "cam02", "cam03", "cam04")
VIDEO_MEMBER = "Pose2Sim/Demo_{trial}/videos/{cam}.mp4"
TRIALS = {"single": "SinglePerson", "multi": "MultiPerson"}
OPENPOSE_DIR = ("Pose2Sim/S00_Demo_BatchSession/S00_P00_SingleParticipant/"
                "S00_P00_T01_BalancingTrial/pose/{cam}_json/")
# OpenPose JSON file f holds video frame f + 1: checked on all four cameras (the mean distance to
# MediaPipe's landmarks, run frame by frame, is smallest at this shift: 15.2 / 12.6 / 12.0 px at
# +1 against 16.9 / 14.4 / 14.2 px at 0 and 15.8 / 14.3 / 14.8 px at +2 on cam01 / 03 / 04).
OPENPOSE_FRAME_SHIFT = 1


def demo_video(cam: str, trial: str = "single") -> Path:
    """Path of the demo's video of `cam` (1080x1920 or 1088x1920, 100 frames, 60 fps).

    trial: "single" (Demo_SinglePerson, a bystander at the back) or "multi" (Demo_MultiPerson:
    two participants, a bystander in some views).
    """
    folder = cache_dir() / "pose2sim-demo"
    folder = folder if trial == "single" else folder / trial  # file names are camera names
    path = folder / f"{cam}.mp4"
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(fetch_wheel("pose2sim-0.10.49")) as z:
            tmp = path.with_suffix(".part")
            tmp.write_bytes(z.read(VIDEO_MEMBER.format(trial=TRIALS[trial], cam=cam)))
            tmp.replace(path)
    return path


def openpose_people(cam: str, json_index: int) -> np.ndarray:
    """(P, 25, 3) BODY_25B people of one OpenPose JSON file of the trial (x, y px, confidence)."""
    with zipfile.ZipFile(fetch_wheel("pose2sim-0.8.4")) as z:
        doc = json.loads(z.read(OPENPOSE_DIR.format(cam=cam) + f"{cam}.{json_index:04d}.json"))
    people = [np.asarray(p["pose_keypoints_2d"], dtype=np.float64).reshape(-1, 3)
              for p in doc["people"]]
    return np.stack(people) if people else np.zeros((0, 25, 3))


def make_session(root: Path, cameras=CAMERAS) -> Path:
    """A session folder whose manifest points at the demo videos (external paths)."""
    from epicap.keypoints.mediapipe_detector import open_video
    from epicap.session.manifest import CameraEntry, SessionManifest

    entries = []
    for cam in cameras:
        path = demo_video(cam)
        cap, count, fps, (w, h) = open_video(path)
        cap.release()
        entries.append(CameraEntry(cam, fps, count, w, h, video=str(path), external=True))
    root.mkdir(parents=True, exist_ok=True)
    SessionManifest(entries, source="ingest").save(root)
    return root
