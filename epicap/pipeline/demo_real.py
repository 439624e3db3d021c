"""`epicap demo --real`: the job on real videos, checked against a real calibration.

The Pose2Sim demo (BSD-3-Clause, fetched from PyPI as the pinned `pose2sim==0.10.49` wheel): four
synchronized portrait videos of one person (100 frames, 60 fps) and the Qualisys calibration of
those cameras. epicap detects the person with MediaPipe, calibrates the cameras from the person
alone with only the intrinsics taken from the Qualisys file (no extrinsics, no board), compares
the recovered rig with Qualisys's, triangulates with both, and renders a picture.

The videos of cam01 and cam02 are 1080 pixels wide while their calibration says 1088 (the sensor
window); the intrinsics are used as they are with the videos' size, as Pose2Sim does.
"""
from __future__ import annotations

import os
import time
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from epicap.pipeline.demo import DemoResult, _prepare_out

__all__ = ["run_real_demo", "pose2sim_demo_files"]

_DEMO = "Pose2Sim/Demo_SinglePerson/"
CAMERAS = ("cam01", "cam02", "cam03", "cam04")


def pose2sim_demo_files(folder: str | os.PathLike) -> tuple[list[Path], Path]:
    """Extract the Pose2Sim demo's videos and Qualisys calibration into `folder`.

    Returns (videos of cam01..cam04, the .qca.txt path). The wheel is pinned and checksummed
    (`epicap.assets`); files already extracted are reused.
    """
    from epicap.assets import fetch_wheel

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    members = {f"{_DEMO}videos/{c}.mp4": folder / f"{c}.mp4" for c in CAMERAS}
    members[f"{_DEMO}calibration/Calib.qca.txt"] = folder / "Calib.qca.txt"
    if not all(p.is_file() for p in members.values()):
        with zipfile.ZipFile(fetch_wheel("pose2sim-0.10.49", quiet=False)) as z:
            for member, path in members.items():
                tmp = path.with_name(path.name + ".part")
                tmp.write_bytes(z.read(member))
                tmp.replace(path)
    paths = list(members.values())
    return paths[:-1], paths[-1]


def run_real_demo(out: str | os.PathLike, force: bool = False,
                  subject_height_m: float = 1.70) -> DemoResult:
    """Run the real-data demo into `out` (see the module docstring)."""
    from epicap.assets import cache_dir
    from epicap.calibration_free import CalibrationOptions, calibrate
    from epicap.capture.ingest import ingest_videos
    from epicap.geometry.rig_metrics import compare_rigs
    from epicap.keypoints.mediapipe_detector import DetectorOptions, detect_session
    from epicap.keypoints.models import pose_model_path
    from epicap.pipeline.demo import _picture
    from epicap.pipeline.triangulate import triangulate_keypoints
    from epicap.session import CAMERAS_FILE, KEYPOINTS_FILE, POSES_FILE
    from epicap.session.qualisys import read_qualisys

    start = time.perf_counter()
    out = Path(out)
    _prepare_out(out, force)
    result = DemoResult(out)
    session = out / "session"
    videos, qca = pose2sim_demo_files(cache_dir() / "pose2sim-demo")
    ingest_videos(videos, session, names=list(CAMERAS))
    # the main subject alone: no re-detection passes to find the others (as before)
    detection = detect_session(session, pose_model_path(), DetectorOptions(redetect_passes=0))
    keypoints = detection.keypoints
    keypoints.save(session / KEYPOINTS_FILE)

    qualisys = read_qualisys(qca).select(keypoints.cameras)
    qualisys = replace(qualisys, image_size=keypoints.image_size.copy())
    qualisys.to_toml(out / "qualisys.toml")
    intrinsics = replace(qualisys, R=None, t=None, error_px=None)
    calib = calibrate(keypoints, intrinsics, CalibrationOptions(subject_height_m=subject_height_m))
    cams = calib.cameras
    cams.to_toml(session / CAMERAS_FILE)
    truth = qualisys.select(cams.names)
    cmp = compare_rigs(truth.R, truth.t, cams.R, cams.t)

    est, est_summary = triangulate_keypoints(keypoints, cams)
    ref, ref_summary = triangulate_keypoints(keypoints, truth)
    est.save(session / POSES_FILE)
    for c, name in enumerate(cams.names):
        result.camera_rows.append((name, float(cmp.rotation_deg[c]),
                                   100 * float(cmp.centre_error_m[c]), float(cams.K[c, 0, 0])))
    result.rows += [
        ("frames with the subject", f"{np.isfinite(keypoints.points).all(-1).any(-1).mean(-1).min():.0%}"
                                    " in every camera (MediaPipe, 33 landmarks)"),
        ("cameras recovered", f"{len(cams)} of {len(keypoints.cameras)} (intrinsics from Qualisys, "
                              "no extrinsics)"),
        ("rotation error vs Qualisys, mean", f"{cmp.rotation_deg.mean():.2f} deg"),
        ("relative rotation error, mean / max", f"{cmp.relative_rotation_deg.mean():.2f} / "
                                                f"{cmp.relative_rotation_deg.max():.2f} deg"),
        ("camera centre error, mean", f"{100 * cmp.centre_error_m.mean():.1f} cm "
                                      f"({cmp.centre_error_pct.mean():.1f}% of the baseline)"),
        ("subject height implied", f"{subject_height_m * cmp.scale:.2f} m "
                                   f"(given {subject_height_m:.2f} m)"),
        ("reprojection p50, recovered cameras", f"{est_summary.reprojection_px[50]:.1f} px"),
        ("reprojection p50, Qualisys cameras", f"{ref_summary.reprojection_px[50]:.1f} px"),
    ]
    result.picture = _picture(session, out / "demo.png", (truth, ref), "Qualisys calibration")
    result.seconds = time.perf_counter() - start
    return result
