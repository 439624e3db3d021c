"""Forward kinematics of DeepMimic's humanoid: joint and marker positions from its mocap frames.

The data: `pybullet_data/data/motions/humanoid3d_*.txt` and `pybullet_data/humanoid/humanoid.urdf`
in the `pybullet==3.2.7` wheel (zlib licence). A motion file is JSON `{"Loop": "wrap"|"none",
"Frames": [...]}`; each frame is 44 numbers, laid out as pybullet's own reader
(`deep_mimic/env/humanoid_pose_interpolator.py`, `Slerp`) reads them:

    duration (s), root position (3), root rotation (4), chest (4), neck (4), right_hip (4),
    right_knee (1), right_ankle (4), right_shoulder (4), right_elbow (1), left_hip (4),
    left_knee (1), left_ankle (4), left_shoulder (4), left_elbow (1)

Quaternions are stored w, x, y, z; knees and elbows are revolute joints, one angle in radians about
their URDF axis (z of the parent link). The URDF is drawn at 4x scale (pybullet loads it with
`globalScaling=0.25`); the root positions of the motion files are already in metres, Y up, the
floor at y = 0, and the humanoid faces +x with its right side at +z.

Every URDF joint has rpy = 0, so a child link's frame is its parent's, moved by the joint origin
and turned by the joint rotation: p_child = p_parent + R_parent @ origin, R_child = R_parent @ R_j.
Virtual markers (face, feet, hands) are fixed points in a link's frame.

Output frame: epicap's world, Z up, floor at z = 0: (x, y, z)_deepmimic -> (x, -z, y). The
humanoid then faces +X with its left side at +Y.
"""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import numpy as np

from epicap.errors import InputError

__all__ = ["URDF_SCALE", "WORLD_FROM_YUP", "MARKERS", "Humanoid", "parse_urdf", "parse_motion",
           "MotionFrames", "forward_kinematics", "rest_height_m"]

URDF_SCALE = 0.25
WORLD_FROM_YUP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])

# Where each rotation lives in a 44-number frame: (joint, first index, 4 = quaternion or 1 = angle).
FRAME_LAYOUT = (("chest", 8, 4), ("neck", 12, 4), ("right_hip", 16, 4), ("right_knee", 20, 1),
                ("right_ankle", 21, 4), ("right_shoulder", 25, 4), ("right_elbow", 29, 1),
                ("left_hip", 30, 4), ("left_knee", 34, 1), ("left_ankle", 35, 4),
                ("left_shoulder", 39, 4), ("left_elbow", 43, 1))
FRAME_SIZE = 44


def _sided(name: str, link: str, offset: tuple[float, float, float]):
    """Left and right copies of a marker; `offset` is the right one's (z = the subject's right)."""
    x, y, z = offset
    return ((f"right_{name}", f"right_{link}", (x, y, z)),
            (f"left_{name}", f"left_{link}", (x, y, -z)))


# Virtual markers: (name, link, offset in the link's frame, URDF units i.e. before the 0.25 scale).
# The head is the neck link's sphere (centre (0, 0.70, 0), radius 0.41); the foot is the ankle
# link's box (centre (0.18, -0.09, 0), size 0.708 x 0.22 x 0.36, sole at y = -0.20); the hand hangs
# below the wrist (elbow link, wrist at y = -1.036) with the palm facing the body at rest.
_VIRTUAL = (
    ("head_top", "neck", (0.0, 1.11, 0.0)),
    ("nose", "neck", (0.40, 0.62, 0.0)),
    ("mouth_right", "neck", (0.36, 0.50, 0.09)),
    ("mouth_left", "neck", (0.36, 0.50, -0.09)),
    ("right_eye", "neck", (0.34, 0.76, 0.13)),
    ("left_eye", "neck", (0.34, 0.76, -0.13)),
    ("right_eye_inner", "neck", (0.36, 0.76, 0.06)),
    ("left_eye_inner", "neck", (0.36, 0.76, -0.06)),
    ("right_eye_outer", "neck", (0.31, 0.76, 0.20)),
    ("left_eye_outer", "neck", (0.31, 0.76, -0.20)),
    ("right_ear", "neck", (-0.02, 0.70, 0.33)),
    ("left_ear", "neck", (-0.02, 0.70, -0.33)),
    *_sided("heel", "ankle", (-0.16, -0.15, 0.0)),
    *_sided("big_toe", "ankle", (0.52, -0.18, -0.06)),
    *_sided("small_toe", "ankle", (0.44, -0.18, 0.14)),
    *_sided("foot_index", "ankle", (0.54, -0.18, 0.02)),
    *_sided("index", "elbow", (0.06, -1.38, 0.0)),
    *_sided("pinky", "elbow", (-0.10, -1.32, 0.0)),
    *_sided("thumb", "elbow", (0.18, -1.20, 0.0)),
)
SOLE_Y = -0.20  # the foot box's bottom in the ankle link's frame (URDF units)

# The URDF links whose origins are markers, under the names epicap's joint sets use.
_LINK_MARKERS = (("pelvis", "root"), ("spine", "chest"), ("neck", "neck"),
                 ("right_hip", "right_hip"), ("right_knee", "right_knee"),
                 ("right_ankle", "right_ankle"), ("right_shoulder", "right_shoulder"),
                 ("right_elbow", "right_elbow"), ("right_wrist", "right_wrist"),
                 ("left_hip", "left_hip"), ("left_knee", "left_knee"), ("left_ankle", "left_ankle"),
                 ("left_shoulder", "left_shoulder"), ("left_elbow", "left_elbow"),
                 ("left_wrist", "left_wrist"))
MARKERS: tuple[str, ...] = tuple(m for m, _ in _LINK_MARKERS) + tuple(v[0] for v in _VIRTUAL)


@dataclass(frozen=True)
class UrdfJoint:
    name: str
    kind: str          # "fixed", "spherical" or "revolute"
    parent: str
    child: str
    origin: tuple[float, float, float]  # in the parent link's frame, URDF units
    axis: tuple[float, float, float]


@dataclass(frozen=True)
class Humanoid:
    """The URDF's kinematic tree: joints in topological order (parents before children)."""

    joints: tuple[UrdfJoint, ...]
    root_link: str

    def joint(self, name: str) -> UrdfJoint:
        for j in self.joints:
            if j.name == name:
                return j
        raise InputError(f"humanoid URDF has no joint {name!r}")


def parse_urdf(text: str) -> Humanoid:
    """The kinematic tree of DeepMimic's humanoid URDF (joint origins, types, axes)."""
    try:
        robot = ET.fromstring(text.strip("\x00 \r\n\t"))  # the wheel's file ends in a NUL
    except ET.ParseError as e:
        raise InputError(f"humanoid URDF: not valid XML ({e})") from None
    joints = []
    for j in robot.iter("joint"):
        origin = j.find("origin")
        axis = j.find("axis")
        joints.append(UrdfJoint(
            j.get("name"), j.get("type"), j.find("parent").get("link"), j.find("child").get("link"),
            tuple(float(v) for v in (origin.get("xyz") if origin is not None else "0 0 0").split()),
            tuple(float(v) for v in (axis.get("xyz") if axis is not None else "0 0 1").split())))
    children = {j.child for j in joints}
    parents = {j.parent for j in joints}
    roots = parents - children
    if len(roots) != 1:
        raise InputError(f"humanoid URDF: expected one root link, found {sorted(roots)}")
    ordered, known = [], set(roots)
    pending = list(joints)
    while pending:
        ready = [j for j in pending if j.parent in known]
        if not ready:
            raise InputError("humanoid URDF: the joints do not form a tree")
        for j in ready:
            ordered.append(j)
            known.add(j.child)
            pending.remove(j)
    # The motion's root position is the "root" link (fixed to "base" at the origin).
    return Humanoid(tuple(ordered), "root")


@dataclass
class MotionFrames:
    """A DeepMimic motion file, parsed. times: (F,) s from the first frame. root_pos: (F, 3) metres,
    Y up. rotations: joint -> (F, 4) quaternions x, y, z, w (scipy order) or (F,) angles, radians.
    root_rot: (F, 4) x, y, z, w. loop: True when the clip cycles ("wrap")."""

    times: np.ndarray
    root_pos: np.ndarray
    root_rot: np.ndarray
    rotations: dict
    loop: bool


def parse_motion(text: str, where: str = "motion") -> MotionFrames:
    """Parse a DeepMimic motion file (see the module docstring for the frame layout)."""
    try:
        doc = json.loads(text)
        frames = np.asarray(doc["Frames"], dtype=np.float64)
    except (ValueError, KeyError, TypeError) as e:
        raise InputError(f"{where}: not a DeepMimic motion file ({e})") from None
    if frames.ndim != 2 or frames.shape[1] != FRAME_SIZE or len(frames) < 2:
        raise InputError(f"{where}: expected frames of {FRAME_SIZE} numbers, got {frames.shape}")
    durations = frames[:-1, 0]
    if not (durations > 0).all():
        raise InputError(f"{where}: frame durations must be positive")
    times = np.concatenate([[0.0], np.cumsum(durations)])

    def quat(i: int) -> np.ndarray:  # stored w, x, y, z -> x, y, z, w, normalised
        q = frames[:, [i + 1, i + 2, i + 3, i]]
        return q / np.linalg.norm(q, axis=1, keepdims=True)

    rotations = {name: (quat(i) if n == 4 else frames[:, i].copy()) for name, i, n in FRAME_LAYOUT}
    return MotionFrames(times, frames[:, 1:4].copy(), quat(4), rotations,
                        str(doc.get("Loop", "none")).lower() == "wrap")


def forward_kinematics(humanoid: Humanoid, root_pos: np.ndarray, root_rot: np.ndarray,
                       rotations: dict) -> np.ndarray:
    """Marker positions (F, M, 3), world metres (Z up), in the order of MARKERS.

    root_pos: (F, 3) metres, Y up. root_rot: (F, 4) x, y, z, w, the root link's orientation.
    rotations: URDF joint name -> (F, 4) quaternion x, y, z, w (spherical joints) or (F,) angle in
    radians about the joint axis (revolute joints); joints not given are fixed.
    """
    from scipy.spatial.transform import Rotation

    F = len(root_pos)
    R = {humanoid.root_link: Rotation.from_quat(root_rot).as_matrix()}
    p = {humanoid.root_link: np.asarray(root_pos, dtype=np.float64)}
    for j in humanoid.joints:
        if j.parent not in R:  # the "base" link above the root: not driven by the motion
            continue
        Rp = R[j.parent]
        origin = URDF_SCALE * np.asarray(j.origin)
        p[j.child] = p[j.parent] + Rp @ origin
        value = rotations.get(j.name)
        if j.kind == "fixed" or value is None:
            R[j.child] = Rp
        elif j.kind == "spherical":
            R[j.child] = Rp @ Rotation.from_quat(value).as_matrix()
        elif j.kind == "revolute":
            axis = np.asarray(j.axis, dtype=np.float64) / np.linalg.norm(j.axis)
            R[j.child] = Rp @ Rotation.from_rotvec(np.asarray(value)[:, None] * axis).as_matrix()
        else:
            raise InputError(f"humanoid URDF: joint {j.name} has unsupported type {j.kind!r}")
    out = np.empty((F, len(MARKERS), 3))
    for m, (_, link) in enumerate(_LINK_MARKERS):
        out[:, m] = p[link]
    for m, (_, link, offset) in enumerate(_VIRTUAL, start=len(_LINK_MARKERS)):
        out[:, m] = p[link] + R[link] @ (URDF_SCALE * np.asarray(offset))
    return out @ WORLD_FROM_YUP.T


def rest_height_m(humanoid: Humanoid) -> float:
    """Standing height (m) of the humanoid at rest: sole of the foot to the top of the head."""
    F = 1
    markers = forward_kinematics(humanoid, np.zeros((F, 3)), np.array([[0.0, 0.0, 0.0, 1.0]]), {})
    head = markers[0, MARKERS.index("head_top"), 2]
    ankle = markers[0, MARKERS.index("right_ankle"), 2]
    return float(head - (ankle + URDF_SCALE * SOLE_Y))
