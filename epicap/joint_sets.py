"""Joint sets as data: names (in each set's own order), bones, left/right pairs, root, and the
mapping of each set onto `h36m17` where a joint can be derived.

Built in: `mediapipe33` (MediaPipe PoseLandmark), `coco17` (COCO keypoints), `body25b` (OpenPose
BODY_25B), `h36m17` (Human3.6M's 17-joint subset). Names are lowercase snake_case with
`left_`/`right_` prefixes, exactly as in the product contract.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from epicap.errors import InputError

__all__ = ["JointSet", "get_joint_set", "JOINT_SETS", "to_h36m17", "h36m17_mapping"]

_COCO17 = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)
_LIMBS = (  # bones shared by every set that has these joints
    ("left_shoulder", "right_shoulder"), ("left_shoulder", "left_elbow"),
    ("left_elbow", "left_wrist"), ("right_shoulder", "right_elbow"), ("right_elbow", "right_wrist"),
    ("left_hip", "right_hip"), ("left_shoulder", "left_hip"), ("right_shoulder", "right_hip"),
    ("left_hip", "left_knee"), ("left_knee", "left_ankle"), ("right_hip", "right_knee"),
    ("right_knee", "right_ankle"),
)
_FACE = (("nose", "left_eye"), ("nose", "right_eye"), ("left_eye", "left_ear"),
         ("right_eye", "right_ear"))
_EAR_SHOULDER = (("left_ear", "left_shoulder"), ("right_ear", "right_shoulder"))  # as COCO draws


@dataclass(frozen=True)
class JointSet:
    """A named skeleton.

    name: e.g. "coco17". joints: names in the set's own order. bones: pairs of joint names.
    root: joint names whose mean is the root (the pelvis). sigmas: per-joint localization
    uncertainty relative to body scale (COCO's OKS sigmas where known), used to weight joints.
    """

    name: str
    joints: tuple[str, ...]
    bones: tuple[tuple[str, str], ...]
    root: tuple[str, ...]
    sigmas: tuple[float, ...] = field(default=())

    def __post_init__(self):
        names = set(self.joints)
        assert len(names) == len(self.joints), f"{self.name}: duplicate joint names"
        for a, b in self.bones:
            assert a in names and b in names, f"{self.name}: bone {a}-{b} names unknown joints"
        assert self.sigmas == () or len(self.sigmas) == len(self.joints)

    def __len__(self) -> int:
        return len(self.joints)

    def index(self, joint: str) -> int:
        """Index of `joint` in this set; InputError listing the valid names if unknown."""
        try:
            return self.joints.index(joint)
        except ValueError:
            raise InputError(f"{self.name} has no joint {joint!r}; valid: {', '.join(self.joints)}")

    @cached_property
    def bone_index(self) -> np.ndarray:
        """(B, 2) int: the bones as joint indices."""
        return np.array([(self.index(a), self.index(b)) for a, b in self.bones], dtype=np.int64)

    @cached_property
    def root_index(self) -> np.ndarray:
        """(R,) int: joints whose mean is the root."""
        return np.array([self.index(j) for j in self.root], dtype=np.int64)

    @cached_property
    def flip_index(self) -> np.ndarray:
        """(J,) int: for each joint, its mirror (left <-> right); itself when central."""
        out = []
        for j in self.joints:
            if j.startswith("left_"):
                out.append(self.index("right_" + j[5:]))
            elif j.startswith("right_"):
                out.append(self.index("left_" + j[6:]))
            else:
                out.append(self.index(j))
        return np.array(out, dtype=np.int64)

    @cached_property
    def side(self) -> np.ndarray:
        """(J,) int: -1 for left joints, +1 for right, 0 for central ones (for colouring)."""
        return np.array([-1 if j.startswith("left_") else 1 if j.startswith("right_") else 0
                         for j in self.joints], dtype=np.int64)

    @cached_property
    def weights(self) -> np.ndarray:
        """(J,) float64: relative joint weights ~ 1/sigma^2 normalised to mean 1 (ones if unknown)."""
        if not self.sigmas:
            return np.ones(len(self.joints))
        w = 1.0 / np.square(np.asarray(self.sigmas, dtype=np.float64))
        return w / w.mean()

    def root_of(self, points: np.ndarray) -> np.ndarray:
        """The root position: points (..., J, D) -> (..., D), NaN where any root joint is NaN."""
        return np.asarray(points)[..., self.root_index, :].mean(axis=-2)


_COCO_SIGMAS = (0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072, 0.062, 0.062,
                0.107, 0.107, 0.087, 0.087, 0.089, 0.089)

COCO17 = JointSet("coco17", _COCO17, _LIMBS + _FACE + _EAR_SHOULDER, ("left_hip", "right_hip"),
                  _COCO_SIGMAS)

_B25_EXTRA = ("neck", "head", "left_big_toe", "left_small_toe", "left_heel", "right_big_toe",
              "right_small_toe", "right_heel")
BODY25B = JointSet(
    "body25b", _COCO17 + _B25_EXTRA,
    _LIMBS + _FACE + (("neck", "head"), ("neck", "left_shoulder"), ("neck", "right_shoulder"),
                      ("neck", "nose"),
                      ("left_ankle", "left_heel"), ("left_ankle", "left_big_toe"),
                      ("left_big_toe", "left_small_toe"), ("right_ankle", "right_heel"),
                      ("right_ankle", "right_big_toe"), ("right_big_toe", "right_small_toe")),
    ("left_hip", "right_hip"),
    # COCO's sigmas, then neck/head as the shoulders, the feet as the ankles
    _COCO_SIGMAS + (0.079, 0.079) + (0.089,) * 6,
)

H36M17 = JointSet(
    "h36m17",
    ("pelvis", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
     "spine", "thorax", "neck", "head", "left_shoulder", "left_elbow", "left_wrist",
     "right_shoulder", "right_elbow", "right_wrist"),
    (("pelvis", "right_hip"), ("right_hip", "right_knee"), ("right_knee", "right_ankle"),
     ("pelvis", "left_hip"), ("left_hip", "left_knee"), ("left_knee", "left_ankle"),
     ("pelvis", "spine"), ("spine", "thorax"), ("thorax", "neck"), ("neck", "head"),
     ("thorax", "left_shoulder"), ("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"),
     ("thorax", "right_shoulder"), ("right_shoulder", "right_elbow"),
     ("right_elbow", "right_wrist")),
    ("pelvis",),
)

_MP33 = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
    "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_pinky",
    "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb", "left_hip",
    "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel",
    "right_heel", "left_foot_index", "right_foot_index",
)
MEDIAPIPE33 = JointSet(
    "mediapipe33", _MP33,
    _LIMBS + (("nose", "left_eye_inner"), ("left_eye_inner", "left_eye"),
              ("left_eye", "left_eye_outer"), ("left_eye_outer", "left_ear"),
              ("nose", "right_eye_inner"), ("right_eye_inner", "right_eye"),
              ("right_eye", "right_eye_outer"), ("right_eye_outer", "right_ear"),
              ("mouth_left", "mouth_right")) + _EAR_SHOULDER + (
              ("left_wrist", "left_pinky"), ("left_wrist", "left_index"),
              ("left_pinky", "left_index"), ("left_wrist", "left_thumb"),
              ("right_wrist", "right_pinky"), ("right_wrist", "right_index"),
              ("right_pinky", "right_index"), ("right_wrist", "right_thumb"),
              ("left_ankle", "left_heel"), ("left_heel", "left_foot_index"),
              ("left_ankle", "left_foot_index"), ("right_ankle", "right_heel"),
              ("right_heel", "right_foot_index"), ("right_ankle", "right_foot_index")),
    ("left_hip", "right_hip"),
    # COCO's sigmas where the joint is a COCO joint; face points as the eyes, hands as the
    # wrists, feet as the ankles
    (0.026,) + (0.025,) * 6 + (0.035, 0.035, 0.025, 0.025, 0.079, 0.079, 0.072, 0.072)
    + (0.062,) * 8 + (0.107, 0.107, 0.087, 0.087) + (0.089,) * 6,
)

JOINT_SETS: dict[str, JointSet] = {s.name: s for s in (MEDIAPIPE33, COCO17, BODY25B, H36M17)}


def get_joint_set(name: str) -> JointSet:
    """The built-in joint set called `name`; InputError listing the valid names otherwise."""
    try:
        return JOINT_SETS[str(name)]
    except KeyError:
        raise InputError(f"unknown joint set {name!r}; valid: {', '.join(JOINT_SETS)}") from None


def _mid(a: str, b: str) -> list[tuple[str, float]]:
    return [(a, 0.5), (b, 0.5)]


# h36m17 joint -> weighted sum of source joints; absent: not derivable from that set
_TO_H36M: dict[str, dict[str, list[tuple[str, float]]]] = {
    "coco17": {
        "pelvis": _mid("left_hip", "right_hip"),
        "thorax": _mid("left_shoulder", "right_shoulder"),
        "spine": [("left_hip", .25), ("right_hip", .25), ("left_shoulder", .25),
                  ("right_shoulder", .25)],
        "neck": [("nose", 1.0)],
    },
    "body25b": {
        "pelvis": _mid("left_hip", "right_hip"),
        "thorax": _mid("left_shoulder", "right_shoulder"),
        "spine": [("left_hip", .25), ("right_hip", .25), ("left_shoulder", .25),
                  ("right_shoulder", .25)],
        "neck": [("neck", 1.0)], "head": [("head", 1.0)],
    },
    "mediapipe33": {
        "pelvis": _mid("left_hip", "right_hip"),
        "thorax": _mid("left_shoulder", "right_shoulder"),
        "spine": [("left_hip", .25), ("right_hip", .25), ("left_shoulder", .25),
                  ("right_shoulder", .25)],
        "neck": [("nose", 1.0)],
    },
}
for _limb in ("hip", "knee", "ankle", "shoulder", "elbow", "wrist"):
    for _src in _TO_H36M.values():
        for _side in ("left_", "right_"):
            _src[_side + _limb] = [(_side + _limb, 1.0)]


def h36m17_mapping(source: str) -> np.ndarray:
    """(17, J) float64 matrix M with h36m17 = M @ source joints; rows of NaN where not derivable.

    source: a built-in joint set name. For `h36m17` itself the identity.
    """
    src = get_joint_set(source)
    if src.name == "h36m17":
        return np.eye(17)
    M = np.full((17, len(src)), np.nan)
    for i, joint in enumerate(H36M17.joints):
        terms = _TO_H36M[src.name].get(joint)
        if terms:
            M[i] = 0.0
            for name, w in terms:
                M[i, src.index(name)] += w
    return M


def to_h36m17(points: np.ndarray, source: str) -> np.ndarray:
    """Points (..., J, D) of joint set `source` -> (..., 17, D) in h36m17 order.

    A derived joint is NaN when any joint it needs is NaN or it cannot be derived from `source`.
    """
    M = h36m17_mapping(source)
    points = np.asarray(points, dtype=np.float64)
    if points.shape[-2] != M.shape[1]:
        raise InputError(f"{source} has {M.shape[1]} joints, points have {points.shape[-2]}")
    used = np.nan_to_num(M) != 0  # (17, J)
    out = np.einsum("kj,...jd->...kd", np.nan_to_num(M), np.nan_to_num(points))
    missing = np.isnan(points).any(axis=-1)  # (..., J)
    bad = (missing[..., None, :] & used).any(axis=-1) | np.isnan(M).all(axis=1)
    out[bad] = np.nan
    return out
