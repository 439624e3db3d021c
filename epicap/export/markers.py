"""Marker names for biomechanics exports: the names Pose2Sim's OpenSim models expect.

Pose2Sim (perfanalytics/pose2sim, `Pose2Sim/skeletons.py` and `OpenSim_Setup/Markers_*.xml`,
checked against the 0.10.49 wheel) names the markers of its models in OpenPose's style: `Nose`,
`LShoulder`, `RBigToe`, ... Its marker sets, and the joint sets they fit:

| epicap | Pose2Sim skeleton, model markers (OpenSim_Setup/Markers_*.xml) |
|---|---|
| body25b | BODY_25B, Markers_Body25b.xml: Nose Head Neck, L/R: Shoulder Elbow Wrist Hip Knee |
| | Ankle BigToe SmallToe Heel |
| coco17 | COCO_17, Markers_Coco17.xml: Nose Neck, L/R: Shoulder Elbow Wrist Hip Knee Ankle |
| mediapipe33 | BLAZEPOSE, Markers_BlazePose.xml: Nose, L/R: Eye Shoulder Elbow Wrist Hip Knee |
| | Ankle BigToe Heel Thumb Pinky Index |

Joint by joint (epicap -> Pose2Sim):

| epicap | Pose2Sim | | epicap | Pose2Sim |
|---|---|---|---|---|
| nose | Nose | | left_/right_eye | LEye / REye |
| left_/right_ear | LEar / REar | | neck | Neck |
| head | Head | | left_/right_shoulder | LShoulder / RShoulder |
| left_/right_elbow | LElbow / RElbow | | left_/right_wrist | LWrist / RWrist |
| left_/right_hip | LHip / RHip | | left_/right_knee | LKnee / RKnee |
| left_/right_ankle | LAnkle / RAnkle | | left_/right_big_toe (body25b) | LBigToe / RBigToe |
| left_/right_small_toe | LSmallToe / RSmallToe | | left_/right_heel | LHeel / RHeel |
| left_/right_foot_index (mediapipe33) | LBigToe / RBigToe | | left_/right_thumb | LThumb / RThumb |
| left_/right_pinky | LPinky / RPinky | | left_/right_index | LIndex / RIndex |
| left_/right_eye_inner | LEyeInner / REyeInner | | left_/right_eye_outer | LEyeOuter / REyeOuter |
| mouth_left / mouth_right | LMouth / RMouth | | pelvis (h36m17) | Hip |
| spine | Spine | | thorax | Thorax |

MediaPipe's foot index (the tip of the foot) is BlazePose's `BigToe` in Pose2Sim. COCO has no
neck, which Pose2Sim's COCO_17 model needs: it is added as the midpoint of the shoulders (as
Pose2Sim does), NaN where either shoulder is missing. Joints without a Pose2Sim counterpart get
names in the same style (`LEyeInner`, `LMouth`); OpenSim ignores markers its model lacks.
"""
from __future__ import annotations

import numpy as np

from epicap.errors import InputError
from epicap.joint_sets import get_joint_set

__all__ = ["MARKER_NAMINGS", "POSE2SIM_NAMES", "DERIVED", "markers_for_export"]

MARKER_NAMINGS = ("pose2sim", "epicap")

_SIDED = {"eye": "Eye", "ear": "Ear", "shoulder": "Shoulder", "elbow": "Elbow", "wrist": "Wrist",
          "hip": "Hip", "knee": "Knee", "ankle": "Ankle", "big_toe": "BigToe",
          "small_toe": "SmallToe", "heel": "Heel", "thumb": "Thumb", "pinky": "Pinky",
          "index": "Index", "eye_inner": "EyeInner", "eye_outer": "EyeOuter",
          "foot_index": "BigToe"}
_PLAIN = {"nose": "Nose", "neck": "Neck", "head": "Head", "pelvis": "Hip", "spine": "Spine",
          "thorax": "Thorax", "mouth_left": "LMouth", "mouth_right": "RMouth"}


def _pose2sim_name(joint: str) -> str:
    if joint in _PLAIN:
        return _PLAIN[joint]
    side, _, part = joint.partition("_")
    if side in ("left", "right") and part in _SIDED:
        return ("L" if side == "left" else "R") + _SIDED[part]
    raise KeyError(joint)


POSE2SIM_NAMES: dict[str, dict[str, str]] = {
    name: {j: _pose2sim_name(j) for j in get_joint_set(name).joints}
    for name in ("body25b", "coco17", "mediapipe33", "h36m17")}
# markers a Pose2Sim model needs that a joint set lacks: name -> the joints averaged
DERIVED: dict[str, dict[str, tuple[str, str]]] = {
    "coco17": {"Neck": ("left_shoulder", "right_shoulder")}}


def markers_for_export(poses: np.ndarray, joint_set: str, joints: list[str],
                       naming: str = "pose2sim") -> tuple[np.ndarray, list[str]]:
    """(markers (T, M, 3), names (M,)) to write for poses (T, J, 3) of `joint_set`.

    naming: "pose2sim" (the names Pose2Sim's OpenSim models expect, plus derived markers such as
    coco17's Neck; see the module's tables) or "epicap" (the joint names, as they are).
    Units and frame are those of `poses`. InputError for an unknown naming.
    """
    if naming not in MARKER_NAMINGS:
        raise InputError(f"--marker-names: {naming!r} is not one of {', '.join(MARKER_NAMINGS)}")
    joints = list(joints)
    if naming == "epicap":
        return poses, joints
    table = POSE2SIM_NAMES.get(joint_set)
    if table is None or any(j not in table for j in joints):
        raise InputError(f"--marker-names pose2sim: no Pose2Sim names for joint set "
                         f"{joint_set!r}; use --marker-names epicap")
    names = [table[j] for j in joints]
    extra = [(m, pair) for m, pair in DERIVED.get(joint_set, {}).items() if m not in names]
    if not extra:
        return poses, names
    added = [poses[:, [joints.index(a), joints.index(b)]].mean(axis=1) for _, (a, b) in extra]
    return np.concatenate([poses, np.stack(added, axis=1)], axis=1), names + [m for m, _ in extra]
