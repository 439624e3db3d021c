"""`poses3d.npz`: triangulated 3D joints in the world frame.

| key | dtype, shape | meaning |
| poses | float32 (T, J, 3) | world frame, metres; NaN where not triangulated |
| reprojection_error | float32 (T, J) | mean pixel error over the views used |
| views | uint8 (T, J) | how many views were used |
| joints, joint_set, fps | | as in keypoints2d.npz |

Several people: poses (P, T, J, 3), reprojection_error and views (P, T, J), and `people` str (P,),
the ids and order of keypoints2d.npz. One person keeps the shapes above and no `people` key.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from epicap.errors import InputError, check_shape
from epicap.joint_sets import JointSet, get_joint_set
from epicap.session.io import read_npz, write_npz
from epicap.session.keypoints2d import read_people, check_people

__all__ = ["Poses3D"]


@dataclass
class Poses3D:
    """T frames of J joints in the world frame.

    poses: (T, J, 3) metres, NaN where not triangulated. reprojection_error: (T, J) mean pixels
    over the views used (NaN where not triangulated). views: (T, J) number of views used.
    people: None for one person; else P ids, and poses (P, T, J, 3), the others (P, T, J).
    """

    poses: np.ndarray
    reprojection_error: np.ndarray
    views: np.ndarray
    joint_set: str
    fps: float
    joints: list[str] | None = None
    people: list[str] | None = None

    def __post_init__(self):
        skel = self.skeleton
        self.joints = list(self.joints) if self.joints is not None else list(skel.joints)
        if tuple(self.joints) != skel.joints:
            raise InputError(f"poses3d: joints do not match joint set {skel.name}")
        lead = "T"
        dims = {"J": len(skel)}
        if self.people is not None:
            self.people = [str(p) for p in self.people]
            check_people(self.people, "poses3d")
            lead, dims["P"] = "P, T", len(self.people)
        dims = check_shape(self.poses, f"{lead}, J, 3", "poses3d: poses", dims)
        check_shape(self.reprojection_error, f"{lead}, J", "poses3d: reprojection_error", dims)
        check_shape(self.views, f"{lead}, J", "poses3d: views", dims)
        self.poses = np.asarray(self.poses, dtype=np.float32)
        self.reprojection_error = np.asarray(self.reprojection_error, dtype=np.float32)
        if np.isinf(self.poses).any():
            raise InputError("poses3d: poses contain infinite values")
        views = np.asarray(self.views)
        if (views < 0).any() or (views > 255).any():
            raise InputError("poses3d: views must lie in 0..255")
        self.views = views.astype(np.uint8)
        self.fps = float(self.fps)
        if not (np.isfinite(self.fps) and self.fps > 0):
            raise InputError(f"poses3d: fps must be positive, got {self.fps}")

    @property
    def skeleton(self) -> JointSet:
        """The JointSet named by `joint_set`."""
        return get_joint_set(self.joint_set)

    @property
    def valid(self) -> np.ndarray:
        """(T, J) bool ((P, T, J) for several people): joints that were triangulated."""
        return np.isfinite(self.poses).all(axis=-1)

    @property
    def num_people(self) -> int:
        """P: 1 for a single-person file, else the length of `people`."""
        return 1 if self.people is None else len(self.people)

    def person(self, p: int) -> "Poses3D":
        """Single-person view (poses (T, J, 3), people None) of person slot `p`."""
        if self.people is None:
            if p != 0:
                raise InputError(f"poses3d: person {p} asked of a single-person file")
            return self
        if not 0 <= p < len(self.people):
            raise InputError(f"poses3d: person {p} asked, have {len(self.people)} people")
        return Poses3D(self.poses[p], self.reprojection_error[p], self.views[p], self.joint_set,
                       self.fps, self.joints)

    @classmethod
    def stack(cls, singles: "list[Poses3D]", people: list[str]) -> "Poses3D":
        """Several single-person Poses3D (same frames, joints) as one (P, T, J, 3) file with ids
        `people`; one person gives the single-person shapes (people None)."""
        if len(singles) == 0 or len(singles) != len(people):
            raise InputError(f"poses3d: {len(singles)} people for {len(people)} ids")
        first = singles[0]
        for s in singles:
            if s.people is not None:
                raise InputError("poses3d: stack takes single-person poses")
            if s.joints != first.joints or s.poses.shape != first.poses.shape:
                raise InputError("poses3d: people to stack differ in joints or frames")
        if len(singles) == 1:
            return first
        return cls(np.stack([s.poses for s in singles]),
                   np.stack([s.reprojection_error for s in singles]),
                   np.stack([s.views for s in singles]), first.joint_set, first.fps,
                   first.joints, list(people))

    @classmethod
    def from_npz(cls, path: str | os.PathLike) -> "Poses3D":
        """Load and validate; InputError naming the file and what is wrong."""
        z = read_npz(path, {"poses": ("f",), "reprojection_error": ("f",), "views": ("u", "i"),
                            "joints": ("U",), "joint_set": ("U",), "fps": ("f", "i", "u")})
        for key in ("joint_set", "fps"):
            if z[key].ndim != 0:
                raise InputError(f"{path}: {key} must be a single value, got shape "
                                 f"{z[key].shape}")
        people = read_people(z, path)
        try:
            return cls(z["poses"], z["reprojection_error"], z["views"], str(z["joint_set"]),
                       float(z["fps"]), list(z["joints"].reshape(-1)), people)
        except InputError as e:
            raise InputError(f"{path}: {e}".replace(": poses3d:", ":")) from None
        except (TypeError, ValueError) as e:
            raise InputError(f"{path}: {e}") from None

    def save(self, path: str | os.PathLike) -> None:
        """Write `poses3d.npz` atomically, exactly as the contract lays it out (`people` only for
        a several-person file)."""
        extra = {} if self.people is None else {"people": np.array(self.people, dtype=str)}
        write_npz(path, {**extra,
            "poses": self.poses.astype(np.float32),
            "reprojection_error": self.reprojection_error.astype(np.float32),
            "views": self.views.astype(np.uint8),
            "joints": np.array(self.joints, dtype=str),
            "joint_set": np.array(self.joint_set, dtype=str),
            "fps": np.array(self.fps, dtype=np.float64),
        })
