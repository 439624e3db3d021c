"""The Pose2Sim two-person trial from its videos, as a new user runs it (issue 11): ingest ->
`run --intrinsics` (Qualisys intrinsics, no poses) -> the rig compared with Qualisys's.

Slow: MediaPipe with re-detection on 4 x 100 frames (about 25 CPU-s) and a calibration.
Measured on this branch: both participants triangulated in 100% and 98% of the frames, every
offset kept at 0 (the videos are synchronized), rig 2.60 deg mean relative rotation and 7.9 cm
mean centre error (the issue's target, 1.5 deg / 5 cm, is not met: MediaPipe's joints of the
participant who stands still bias the rig; with the same detections, the moving participant alone
gives 1.22 deg / 1.8 cm). Before: 3 fragmented people, 19% of joints, 19.9 deg / 52 cm.
"""
import zipfile

import numpy as np
import pytest

from epicap.cli import main
from epicap.pipeline.run import RunOptions, run_session
from epicap.session import POSES_FILE, Poses3D

pytestmark = pytest.mark.slow

MEMBERS = "Pose2Sim/Demo_MultiPerson/"


@pytest.fixture(scope="module")
def trial(tmp_path_factory):
    """(session folder after `run`, the Qualisys calibration file)."""
    from epicap.assets import fetch_wheel
    from tests.keypoints.pose2sim_demo import CAMERAS, demo_video

    root = tmp_path_factory.mktemp("two_person_videos")
    qca = root / "Calib.qca.txt"
    with zipfile.ZipFile(fetch_wheel("pose2sim-0.10.49")) as z:
        qca.write_bytes(z.read(MEMBERS + "calibration/Calib.qca.txt"))
    session = root / "trial"
    videos = [str(demo_video(cam, trial="multi")) for cam in CAMERAS]
    assert main(["ingest", "--out", str(session), *videos, "--quiet"]) == 0
    statuses = {r.stage: r.status for r in run_session(
        session, RunOptions(intrinsics=str(qca), snapshots=False))}
    assert [statuses[s] for s in ("detect", "sync", "calibrate", "triangulate")] == ["ran"] * 4
    return session, qca


def test_both_participants_are_triangulated_in_most_frames(trial):
    poses = Poses3D.from_npz(trial[0] / POSES_FILE)
    assert poses.people == ["p0", "p1"]  # the two participants (bystanders are too small)
    half = np.isfinite(poses.poses).all(-1).mean(-1) >= 0.5  # (P, T)
    assert half.mean(-1).min() >= 0.8, half.mean(-1)  # measured 1.00, 0.96


def test_synchronized_videos_keep_offset_zero(trial):
    import tomllib

    sync = tomllib.loads((trial[0] / "sync.toml").read_text())
    offsets = [c["offset_frames"] for c in sync["cameras"].values()]
    assert np.abs(offsets).max() < 0.5, offsets  # measured 0 (estimates within their noise)


def test_rig_against_qualisys(trial):
    from epicap.session.calibration_compare import compare_calibrations
    from epicap.session.calibration_formats import load_calibration

    session, qca = trial
    cmp = compare_calibrations(load_calibration(qca), load_calibration(session / "cameras.toml"))
    assert len(cmp.cameras) == 4
    # regression guard around what is reached (2.60 deg, 7.9 cm), not the target
    assert cmp.relative_rotation_deg.mean() < 3.5, cmp.relative_rotation_deg
    assert cmp.centre_error_m.mean() < 0.11, cmp.centre_error_m


def test_a_sync_by_hand_does_not_make_run_detect_again(trial):
    """`epicap sync` by hand rewrites keypoints2d.npz; the keypoints as detected are still
    keypoints2d_raw.npz, so run syncs again (its own options) but keeps the detection (before:
    MediaPipe ran again, 40 s, for the same file). Runs last on the shared session."""
    session, qca = trial
    assert main(["sync", str(session), "--quiet"]) == 0
    statuses = {r.stage: r.status for r in run_session(
        session, RunOptions(intrinsics=str(qca), snapshots=False))}
    assert statuses["detect"] == "done" and statuses["sync"] == "ran", statuses
    again = {r.stage: r.status for r in run_session(
        session, RunOptions(intrinsics=str(qca), snapshots=False))}
    assert all(again[s] == "done" for s in ("detect", "sync", "calibrate", "triangulate"))


def test_synchronized_videos_at_half_size_keep_offset_zero(tmp_path):
    """The same videos at half their size, as lower-resolution cameras would film them. The
    offset search scored each offset on the joints seen at it: MediaPipe's flickering joints
    counted at whole-frame offsets only, and cam02 came out 1.12 frames late with a confidence
    of 1.0 (the rig 4.4 deg off Qualisys; 2.3 deg with the offsets at 0). Every offset of a
    search window is now scored on the same joints."""
    import cv2
    import tomllib

    from tests.keypoints.pose2sim_demo import CAMERAS, demo_video

    videos = []
    for cam in CAMERAS:
        cap = cv2.VideoCapture(str(demo_video(cam, trial="multi")))
        fps, out = cap.get(cv2.CAP_PROP_FPS), None
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            small = cv2.resize(frame, (frame.shape[1] // 2, frame.shape[0] // 2),
                               interpolation=cv2.INTER_AREA)
            if out is None:
                videos.append(tmp_path / f"{cam}.mp4")
                out = cv2.VideoWriter(str(videos[-1]), cv2.VideoWriter_fourcc(*"mp4v"), fps,
                                      (small.shape[1], small.shape[0]))
            out.write(small)
        out.release()
    session = tmp_path / "half"
    assert main(["ingest", "--out", str(session), *map(str, videos), "--quiet"]) == 0
    run_session(session, RunOptions(until="sync", snapshots=False))
    sync = tomllib.loads((session / "sync.toml").read_text())
    offsets = [c["offset_frames"] for c in sync["cameras"].values()]
    assert np.abs(offsets).max() < 0.5, offsets  # measured 0, 0, 0, -0.06
