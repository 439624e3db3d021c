"""TRC and C3D for OpenSim workflows: Pose2Sim's marker names, only real frames, stated axes."""
import re
import zipfile

import numpy as np
import pytest

from epicap.assets import fetch_wheel
from epicap.cli import main
from epicap.errors import InputError
from epicap.export.c3d import read_c3d
from epicap.export.markers import POSE2SIM_NAMES, markers_for_export
from epicap.export.trc import read_trc, zup_from_yup
from epicap.joint_sets import get_joint_set
from epicap.session import Poses3D
from tests.viz.session_factory import make_session

# Pose2Sim's OpenSim marker sets (OpenSim_Setup/Markers_*.xml in the pose2sim 0.10.49 wheel)
MODEL_MARKERS = {"body25b": "Markers_Body25b.xml", "coco17": "Markers_Coco17.xml",
                 "mediapipe33": "Markers_BlazePose.xml"}


@pytest.fixture(scope="module")
def pose2sim_markers():
    with zipfile.ZipFile(fetch_wheel("pose2sim-0.10.49")) as z:
        return {js: re.findall(r'<Marker name="([^"]+)"',
                               z.read(f"Pose2Sim/OpenSim_Setup/{xml}").decode())
                for js, xml in MODEL_MARKERS.items()}


@pytest.mark.parametrize("joint_set", sorted(MODEL_MARKERS))
def test_every_marker_of_pose2sims_model_is_exported(pose2sim_markers, joint_set):
    skel = get_joint_set(joint_set)
    poses = np.random.default_rng(0).normal(size=(3, len(skel), 3))
    markers, names = markers_for_export(poses, joint_set, list(skel.joints))
    model = pose2sim_markers[joint_set]
    assert len(model) >= 14
    assert set(model) <= set(names), set(model) - set(names)
    assert len(set(names)) == len(names)  # no name used twice
    assert np.array_equal(markers[:, :len(skel)], poses)  # the joints as they are, in order


def test_derived_neck_and_the_epicap_naming():
    skel = get_joint_set("coco17")
    poses = np.random.default_rng(1).normal(size=(4, 17, 3))
    poses[2, skel.index("left_shoulder")] = np.nan
    markers, names = markers_for_export(poses, "coco17", list(skel.joints))
    assert names[-1] == "Neck" and names[0] == "Nose" and len(names) == 18
    neck = markers[:, -1]
    mid = (poses[:, skel.index("left_shoulder")] + poses[:, skel.index("right_shoulder")]) / 2
    assert np.allclose(neck, mid, equal_nan=True) and np.isnan(neck[2]).all()
    same, joints = markers_for_export(poses, "coco17", list(skel.joints), "epicap")
    assert joints == list(skel.joints) and same is poses
    assert POSE2SIM_NAMES["mediapipe33"]["left_foot_index"] == "LBigToe"
    with pytest.raises(InputError, match="--marker-names: 'opensim'"):
        markers_for_export(poses, "coco17", list(skel.joints), "opensim")


def _padded_session(tmp_path, first_frame=-1):
    """A session whose first and last rows hold nothing (sync's padding), synced with
    sync.toml's first_frame: row 0 is the reference camera's frame `first_frame`."""
    session = make_session(tmp_path / "s", T=8, with_keypoints=False)
    poses = Poses3D.from_npz(session / "poses3d.npz")
    P = poses.poses.copy()
    P[[0, -1]] = np.nan
    P[3, 2] = np.nan  # a joint missing inside: kept as an empty cell
    Poses3D(P, poses.reprojection_error, poses.views, poses.joint_set, poses.fps).save(
        session / "poses3d.npz")
    (session / "sync.toml").write_text(f"version = 1\nfirst_frame = {first_frame}\n")
    return session, P


def test_trc_holds_only_real_frames_numbered_like_the_videos(tmp_path):
    session, P = _padded_session(tmp_path)
    out = tmp_path / "a.trc"
    assert main(["export", str(session), "--format", "trc", "--out", str(out)]) == 0
    trc = read_trc(out)
    assert trc.markers.shape[0] == 6 and trc.first_frame == 1  # rows 1..6 = video frames 0..5
    assert np.allclose(zup_from_yup(trc.markers), P[1:-1], atol=2e-6, equal_nan=True)
    assert trc.names[:3] == ["Hip", "RHip", "RKnee"]  # h36m17 in Pose2Sim's style
    lines = out.read_text().splitlines()
    assert "Y up (OpenSim)" in lines[0] and "metres" in lines[0]
    assert [ln.split("\t")[:2] for ln in lines[5:7]] == [["1", "0.000000"], ["2", "0.033333"]]
    # mm, epicap names, and a timeline that starts at video frame 3 (sync cut the start)
    (session / "sync.toml").write_text("version = 1\nfirst_frame = 3\n")
    assert main(["export", str(session), "--format", "trc", "--out", str(tmp_path / "b.trc"),
                 "--units", "mm", "--marker-names", "epicap"]) == 0
    b = read_trc(tmp_path / "b.trc")
    assert b.first_frame == 5 and b.units == "mm" and b.names[0] == "pelvis"
    assert "millimetres" in (tmp_path / "b.trc").read_text().splitlines()[0]
    assert np.allclose(zup_from_yup(b.markers) / 1000, P[1:-1], atol=2e-6, equal_nan=True)


def test_c3d_holds_only_real_frames_and_says_where_they_start(tmp_path):
    session, P = _padded_session(tmp_path, first_frame=9)
    out = tmp_path / "a.c3d"
    assert main(["export", str(session), "--format", "c3d", "--out", str(out)]) == 0
    c3d = read_c3d(out)
    assert c3d.points.shape == (6, 17, 3) and c3d.first_frame == 11
    assert c3d.parameters["TRIAL"]["ACTUAL_START_FIELD"] == [11, 0]
    assert c3d.parameters["TRIAL"]["ACTUAL_END_FIELD"] == [16, 0]
    assert c3d.labels[0] == "Hip" and c3d.parameters["POINT"]["DESCRIPTIONS"][0] == \
        "Z up, millimetres"
    assert np.allclose(c3d.points / 1000, P[1:-1], atol=1e-6, equal_nan=True)
    with pytest.raises(SystemExit) as exit_:  # argparse's choices: one line, status 2
        main(["export", str(session), "--format", "c3d", "--out", str(tmp_path / "x.c3d"),
              "--marker-names", "opensim"])
    assert exit_.value.code == 2
    assert not (tmp_path / "x.c3d").exists()
