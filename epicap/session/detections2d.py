"""`detections2d.npz`: every person a 2D detector reported, before people are matched.

| key | dtype, shape | meaning |
| keypoints | float32 (C, T, S, J, 3) | S detection slots per camera and frame, in the detector's |
|           |                        | (arbitrary) order; x, y pixels, confidence in [0, 1];     |
|           |                        | an empty slot or missing joint is (NaN, NaN, 0)           |
| cameras | str (C,) | camera names |  joints | str (J,) |  joint_set | str () |
| image_size | int (C, 2) | width, height |  fps | float () |  format_version | int () = 1 |
| matched_offsets_frames | int (C,), optional | where the cameras started apart: the offsets   |
|                        |                    | (frames) the people were matched at           |

Slot s of camera c at frame t is *not* the same person as slot s at frame t + 1 or in another
camera: `epicap.people` links slots into tracklets and people (an assignment (C, T, S) -> person).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from epicap.errors import InputError, check_shape
from epicap.joint_sets import JointSet, get_joint_set
from epicap.session.cameras import MAX_IMAGE_SIDE
from epicap.session.io import read_npz, write_npz
from epicap.session.keypoints2d import check_keypoint_fields

__all__ = ["Detections2D", "DETECTIONS_FILE", "FORMAT_VERSION", "stack_detections"]

DETECTIONS_FILE = "detections2d.npz"
FORMAT_VERSION = 1


@dataclass
class Detections2D:
    """Raw 2D detections of C cameras over T frames, S slots of J joints.

    keypoints: (C, T, S, J, 3) float32, x and y in pixels of the original image, confidence in
        [0, 1]; empty slots and missing joints are (NaN, NaN, 0). S may be 0 (nobody anywhere).
    cameras: C names. joint_set: a built-in joint set name; joints: its J joint names in order.
    image_size: (C, 2) int width, height. fps: frames per second of the common timeline.
    matched_offsets: (C,) int frames, camera c's frame i at common frame i + offset, where the
        people were matched on that timeline (cameras started apart,
        `epicap.people.coarse_offsets`; sync refines each offset from there); None: on the
        cameras' own frames.
    """

    keypoints: np.ndarray
    cameras: list[str]
    joint_set: str
    image_size: np.ndarray
    fps: float
    joints: list[str] | None = None
    matched_offsets: np.ndarray | None = None

    def __post_init__(self):
        self.cameras = [str(c) for c in self.cameras]
        self.joints = list(self.joints) if self.joints is not None else list(self.skeleton.joints)
        self.image_size = np.asarray(self.image_size, dtype=np.int64)
        self.fps = float(self.fps)
        self.keypoints = self.validate(np.asarray(self.keypoints), "detections2d")
        if self.matched_offsets is not None:
            offsets = np.asarray(self.matched_offsets)
            if offsets.shape != (len(self.cameras),) or offsets.dtype.kind not in "iu":
                raise InputError(f"detections2d: matched_offsets_frames must be {len(self.cameras)}"
                                 f" whole frames, one per camera, got {offsets.tolist()}")
            self.matched_offsets = offsets.astype(np.int64)

    @property
    def skeleton(self) -> JointSet:
        """The JointSet named by `joint_set`."""
        return get_joint_set(self.joint_set)

    @property
    def num_frames(self) -> int:
        """T, the number of frames on the common timeline."""
        return self.keypoints.shape[1]

    @property
    def num_slots(self) -> int:
        """S, detection slots per camera and frame."""
        return self.keypoints.shape[2]

    @property
    def occupied(self) -> np.ndarray:
        """(C, T, S) bool: the slot holds a detection (at least one joint seen)."""
        return (self.keypoints[..., 2] > 0).any(-1)

    def people_per_frame(self) -> np.ndarray:
        """(C, T) int: how many detections each camera reported in each frame."""
        return self.occupied.sum(-1)

    def validate(self, kp: np.ndarray, where: str) -> np.ndarray:
        """Check every field against the contract; returns the keypoints as clean float32.

        Joints with confidence 0 become (NaN, NaN, 0) and joints with a NaN coordinate get
        confidence 0, so "missing" has one representation.
        """
        skel = self.skeleton  # raises for an unknown joint set
        dims = check_shape(kp, "C, T, S, J, 3", f"{where}: keypoints", {"J": len(skel)})
        C = dims["C"]
        if C == 0 or dims["T"] == 0:
            raise InputError(f"{where}: holds no {'cameras' if C == 0 else 'frames'} "
                             f"(keypoints of shape {kp.shape})")
        return check_keypoint_fields(kp, C, self, where)

    @classmethod
    def from_npz(cls, path: str | os.PathLike) -> "Detections2D":
        """Load and validate; InputError naming the file and the key at fault."""
        z = read_npz(path, {"keypoints": ("f",), "cameras": ("U",), "joints": ("U",),
                            "joint_set": ("U",), "image_size": ("i", "u"), "fps": ("f", "i", "u"),
                            "format_version": ("i", "u")})
        for key in ("joint_set", "fps", "format_version"):
            if z[key].ndim != 0:
                raise InputError(f"{path}: {key} must be a single value, got shape "
                                 f"{z[key].shape}")
        if int(z["format_version"]) != FORMAT_VERSION:
            raise InputError(f"{path}: format_version {int(z['format_version'])} is not "
                             f"supported (this epicap reads {FORMAT_VERSION})")
        if z["image_size"].dtype.kind == "u" and (z["image_size"] > MAX_IMAGE_SIDE).any():
            raise InputError(f"{path}: image_size must be positive pixels (at most "
                             f"{MAX_IMAGE_SIDE}), got {z['image_size'].tolist()}")
        try:
            return cls(keypoints=z["keypoints"], cameras=list(z["cameras"].reshape(-1)),
                       joint_set=str(z["joint_set"]), image_size=z["image_size"],
                       fps=float(z["fps"]), joints=list(z["joints"].reshape(-1)),
                       matched_offsets=z.get("matched_offsets_frames"))
        except InputError as e:
            raise InputError(f"{path}: {e}".replace(": detections2d:", ":")) from None
        except (TypeError, ValueError) as e:
            raise InputError(f"{path}: {e}") from None

    def save(self, path: str | os.PathLike) -> None:
        """Write `detections2d.npz` atomically, laid out as the module docstring says."""
        fields = {
            "keypoints": self.keypoints.astype(np.float32),
            "cameras": np.array(self.cameras, dtype=str),
            "joints": np.array(self.joints, dtype=str),
            "joint_set": np.array(self.joint_set, dtype=str),
            "image_size": self.image_size.astype(np.int64),
            "fps": np.array(self.fps, dtype=np.float64),
            "format_version": np.array(FORMAT_VERSION, dtype=np.int64),
        }
        if self.matched_offsets is not None:
            fields["matched_offsets_frames"] = self.matched_offsets.astype(np.int64)
        write_npz(path, fields)


def stack_detections(people: Sequence[Sequence[np.ndarray | None]], num_joints: int,
                     max_slots: int | None = None) -> np.ndarray:
    """(C, T, S, J, 3) float32 raw detections from per-frame lists of people.

    people: C lists of T_c entries, each (P, J, 3) people of one frame (x, y pixels, confidence;
        NaN or confidence 0 where unseen) or None / P = 0 when nobody was found. Shorter cameras
        are padded with empty frames to the longest T.
    num_joints: J. max_slots: S; default the most people in any frame (at least 1).
    People beyond `max_slots` in one frame are dropped (the caller warns).
    """
    T = max((len(cam) for cam in people), default=0)
    most = max((0 if p is None else len(p) for cam in people for p in cam), default=0)
    S = max(most, 1) if max_slots is None else int(max_slots)
    out = np.full((len(people), T, S, num_joints, 3), np.nan, dtype=np.float32)
    out[..., 2] = 0.0
    for c, cam in enumerate(people):
        for t, p in enumerate(cam):
            if p is None or len(p) == 0:
                continue
            p = np.asarray(p, dtype=np.float32)[:S]
            if p.shape[1:] != (num_joints, 3):
                raise InputError(f"camera {c}, frame {t}: expected people as (P, {num_joints}, "
                                 f"3), got {p.shape}")
            out[c, t, :len(p)] = p
    conf = out[..., 2]
    out[np.isnan(out[..., :2]).any(-1) | ~(conf > 0)] = (np.nan, np.nan, 0.0)
    return out
