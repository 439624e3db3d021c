"""The Pose2Sim two-person trial (OpenPose BODY_25B JSON, 4 cameras), matched without cameras and
checked against its Qualisys calibration: matched people triangulate, swapped ones do not."""
import zipfile

import numpy as np
import pytest

from epicap.assets import fetch_wheel, read_member
from epicap.geometry.camera import project_points
from epicap.geometry.triangulation import TriangulationOptions, triangulate
from epicap.people.assignment import gather
from epicap.people.uncalibrated import match_uncalibrated

pytestmark = pytest.mark.slow

TRIAL = ("Pose2Sim/S00_Demo_BatchSession/S00_P01_MultiParticipants/"
         "S00_P01_T02_Participants1-2/pose/")
CALIBRATION = "Pose2Sim/S00_Demo_BatchSession/S00_Calibration/Calib.qca.txt"


@pytest.fixture(scope="module")
def trial(tmp_path_factory):
    from epicap.keypoints.openpose import read_openpose
    from epicap.session.qualisys import read_qualisys

    root = tmp_path_factory.mktemp("two_person")
    wheel = fetch_wheel("pose2sim-0.8.4")
    with zipfile.ZipFile(wheel) as z:
        for m in z.namelist():
            if m.startswith(TRIAL) and m.endswith(".json"):
                dst = root / m[len(TRIAL):]
                dst.parent.mkdir(parents=True, exist_ok=True)
                dst.write_bytes(z.read(m))
    raw = []
    read_openpose([root / f"cam0{i}_json" for i in range(1, 5)], image_size=(1088, 1920),
                  fps=60, raw=raw)
    truth = read_qualisys(text=read_member(wheel, CALIBRATION).decode())
    return raw[0], truth


def _view_errors(kp, cams):
    """(C, T) median joint reprojection error (px) of each view of one person (C, T, J, 3),
    triangulated from all its views with the true cameras and no outlier rejection."""
    res = triangulate(kp[..., :2], cams.K, cams.R, cams.t, cams.dist, kp[..., 2],
                      TriangulationOptions(outlier_threshold_px=None))
    C, T, J, _ = kp.shape
    px, _ = project_points(res.points3d.reshape(-1, 3), cams.K, cams.R, cams.t, cams.dist)
    err = np.linalg.norm(px.reshape(C, T, J, 2) - kp[..., :2], axis=-1)
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmedian(err, -1)


def test_both_participants_are_matched_across_the_four_cameras(trial):
    det, cams = trial
    assert det.keypoints.shape[:3] == (4, 100, 4) and det.people_per_frame().max() == 4
    r = match_uncalibrated(det.keypoints, det.image_size)
    assert r.num_people >= 2 and r.cameras_seen[:2].tolist() == [4, 4]
    kp = gather(det.keypoints, r.assignment, r.num_people)
    for p in (0, 1):
        seen = (kp[:, :, p, :, 2] > 0).any(-1)
        assert seen.sum(1).min() >= 95  # measured 98-100 frames per camera
        err = _view_errors(kp[:, :, p], cams)
        # under Qualisys every view of the matched person agrees: the OpenPose floor is ~13 px
        assert np.nanmedian(err) < 20  # measured 12.6 and 12.8 px
        assert np.mean(err[seen] < 40) >= 0.97  # measured 100% (999 of 999 detections assigned)
    # the same people with their identities swapped in one camera do not triangulate
    wrong = kp[:, :, 0].copy()
    wrong[1] = kp[1, :, 1]
    assert np.nanmedian(_view_errors(wrong, cams)[1]) > 80  # measured 344 px
    # anyone else (a bystander) is matched in at most the cameras that see them, never merged
    # into a participant: participants' tracklets are all theirs
    for p in range(2, r.num_people):
        err = _view_errors(kp[:, :, p], cams)
        assert np.nanmedian(err) < 20
