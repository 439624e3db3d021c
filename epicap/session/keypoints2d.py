"""`keypoints2d.npz`: 2D keypoints of every camera on one common timeline.

| key | dtype, shape | meaning |
| keypoints | float32 (C, T, J, 3) | x, y pixels, confidence in [0, 1]; missing: NaN, NaN, 0 |
| cameras | str (C,) | camera names |  joints | str (J,) |  joint_set | str () |
| image_size | int (C, 2) | width, height |  fps | float () |

Several people (PRODUCT.md "Several people"): keypoints (C, T, P, J, 3), slot p the same person in
every camera and frame, plus `people` str (P,) person ids (person 0 the main subject). A session of
one person keeps the single-person shapes and no `people` key; every reader accepts both.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from epicap.errors import InputError, check_shape
from epicap.joint_sets import JointSet, get_joint_set
from epicap.session.cameras import MAX_IMAGE_SIDE
from epicap.session.io import read_npz, write_npz
from epicap.session.names import check_camera_name


__all__ = ["Keypoints2D"]


@dataclass
class Keypoints2D:
    """2D keypoints of C cameras over T frames of J joints.

    keypoints: (C, T, J, 3) float32, x and y in pixels of the original image, confidence in [0, 1];
        missing joints are (NaN, NaN, 0).
    cameras: C names. joint_set: a built-in joint set name; joints: its J joint names in order.
    image_size: (C, 2) int width, height. fps: frames per second of the common timeline.
    people: None for one person (keypoints (C, T, J, 3)); else P person ids and keypoints
        (C, T, P, J, 3), person p in slot p of every camera and frame (p = 0 the main subject).
    """

    keypoints: np.ndarray
    cameras: list[str]
    joint_set: str
    image_size: np.ndarray
    fps: float
    joints: list[str] | None = None
    people: list[str] | None = None

    def __post_init__(self):
        self.cameras = [str(c) for c in self.cameras]
        self.people = None if self.people is None else [str(p) for p in self.people]
        self.joints = list(self.joints) if self.joints is not None else list(self.skeleton.joints)
        self.image_size = np.asarray(self.image_size, dtype=np.int64)
        self.fps = float(self.fps)
        self.keypoints = self.validate(np.asarray(self.keypoints), "keypoints2d")

    @property
    def skeleton(self) -> JointSet:
        """The JointSet named by `joint_set`."""
        return get_joint_set(self.joint_set)

    @property
    def points(self) -> np.ndarray:
        """(C, T, J, 2) pixel coordinates (NaN where missing); (C, T, P, J, 2) for several."""
        return self.keypoints[..., :2]

    @property
    def confidence(self) -> np.ndarray:
        """(C, T, J) confidence in [0, 1] (0 where missing); (C, T, P, J) for several people."""
        return self.keypoints[..., 2]

    @property
    def num_people(self) -> int:
        """P: 1 for a single-person file, else the length of `people`."""
        return 1 if self.people is None else len(self.people)

    def person(self, p: int) -> "Keypoints2D":
        """Single-person view (keypoints (C, T, J, 3), people None) of person slot `p`."""
        if self.people is None:
            if p != 0:
                raise InputError(f"keypoints2d: person {p} asked of a single-person file")
            return self
        if not 0 <= p < len(self.people):
            raise InputError(f"keypoints2d: person {p} asked, have {len(self.people)} people")
        return Keypoints2D(self.keypoints[:, :, p], self.cameras, self.joint_set,
                           self.image_size, self.fps, self.joints)

    @classmethod
    def stack(cls, singles: "list[Keypoints2D]", people: list[str]) -> "Keypoints2D":
        """Several single-person Keypoints2D (same cameras, frames, joints) as one (C, T, P, J, 3)
        file with ids `people`; one person gives the single-person shapes (people None)."""
        if len(singles) == 0 or len(singles) != len(people):
            raise InputError(f"keypoints2d: {len(singles)} people for {len(people)} ids")
        first = singles[0]
        for s in singles:
            if s.people is not None:
                raise InputError("keypoints2d: stack takes single-person keypoints")
            if (s.cameras != first.cameras or s.joints != first.joints
                    or s.keypoints.shape != first.keypoints.shape):
                raise InputError("keypoints2d: people to stack differ in cameras, joints or "
                                 "frames")
        if len(singles) == 1:
            return first
        return cls(np.stack([s.keypoints for s in singles], axis=2), first.cameras,
                   first.joint_set, first.image_size, first.fps, first.joints, list(people))

    @property
    def num_frames(self) -> int:
        """T, the number of frames on the common timeline."""
        return self.keypoints.shape[1]

    def validate(self, kp: np.ndarray, where: str) -> np.ndarray:
        """Check every field against the contract; returns the keypoints as clean float32.

        Coordinates of joints with confidence 0 become NaN and joints with a NaN coordinate get
        confidence 0, so "missing" has one representation.
        """
        skel = self.skeleton  # raises for an unknown joint set
        if self.people is None:
            dims = check_shape(kp, "C, T, J, 3", f"{where}: keypoints", {"J": len(skel)})
        else:
            check_people(self.people, where)
            dims = check_shape(kp, "C, T, P, J, 3", f"{where}: keypoints",
                               {"J": len(skel), "P": len(self.people)})
        return check_keypoint_fields(kp, dims["C"], self, where)

    @classmethod
    def from_npz(cls, path: str | os.PathLike) -> "Keypoints2D":
        """Load and validate; InputError naming the file and what is wrong."""
        z = read_npz(path, {"keypoints": ("f",), "cameras": ("U",), "joints": ("U",),
                            "joint_set": ("U",), "image_size": ("i", "u"), "fps": ("f", "i", "u")})
        for key in ("joint_set", "fps"):
            if z[key].ndim != 0:
                raise InputError(f"{path}: {key} must be a single value, got shape "
                                 f"{z[key].shape}")
        people = read_people(z, path)
        shape = z["keypoints"].shape
        if len(shape) in (4, 5) and 0 in shape[:2]:
            raise InputError(f"{path}: holds no {'cameras' if shape[0] == 0 else 'frames'} "
                             f"(keypoints of shape {shape})")
        if z["image_size"].dtype.kind == "u" and (z["image_size"] > MAX_IMAGE_SIDE).any():
            raise InputError(f"{path}: image_size must be positive pixels (at most "
                             f"{MAX_IMAGE_SIDE}), got {z['image_size'].tolist()}")
        try:
            return cls(keypoints=z["keypoints"], cameras=list(z["cameras"].reshape(-1)),
                       joint_set=str(z["joint_set"]), image_size=z["image_size"],
                       fps=float(z["fps"]), joints=list(z["joints"].reshape(-1)), people=people)
        except InputError as e:
            raise InputError(f"{path}: {e}".replace(": keypoints2d:", ":")) from None
        except (TypeError, ValueError) as e:
            raise InputError(f"{path}: {e}") from None

    def save(self, path: str | os.PathLike) -> None:
        """Write `keypoints2d.npz` atomically, exactly as the contract lays it out (`people`
        only for a several-person file)."""
        extra = {} if self.people is None else {"people": np.array(self.people, dtype=str)}
        write_npz(path, {**extra,
            "keypoints": self.keypoints.astype(np.float32),
            "cameras": np.array(self.cameras, dtype=str),
            "joints": np.array(self.joints, dtype=str),
            "joint_set": np.array(self.joint_set, dtype=str),
            "image_size": self.image_size.astype(np.int64),
            "fps": np.array(self.fps, dtype=np.float64),
        })

    def select_cameras(self, names: list[str]) -> "Keypoints2D":
        """A copy holding only the cameras `names`, in that order."""
        idx = [self.camera_index(n) for n in names]
        return Keypoints2D(self.keypoints[idx], names, self.joint_set, self.image_size[idx],
                           self.fps, self.joints, self.people)

    def camera_index(self, name: str) -> int:
        """Index of camera `name` in `cameras`; InputError listing the cameras if unknown."""
        try:
            return self.cameras.index(name)
        except ValueError:
            raise InputError(f"no camera {name!r} in keypoints; have "
                             f"{', '.join(self.cameras)}") from None


def check_people(people: list[str], where: str) -> None:
    """InputError unless `people` are at least one distinct, non-empty, printable ids."""
    if len(people) == 0:
        raise InputError(f"{where}: people is empty (omit it for a single person)")
    if len(set(people)) != len(people):
        raise InputError(f"{where}: person ids are not unique: {people}")
    for name in people:
        if not name or not name.isprintable() or len(name) > 64:
            raise InputError(f"{where}: bad person id {name!r} (1-64 printable characters)")


def read_people(z: dict, path) -> list[str] | None:
    """The optional `people` key of a loaded .npz as a list, None when absent."""
    if "people" not in z:
        return None
    if z["people"].dtype.kind != "U" or z["people"].ndim != 1:
        raise InputError(f"{path}: key 'people' must be strings of shape (P,), got "
                         f"{z['people'].dtype} {z['people'].shape}")
    return [str(p) for p in z["people"]]


def check_keypoint_fields(kp: np.ndarray, C: int, fields, where: str) -> np.ndarray:
    """The checks that keypoints2d.npz and detections2d.npz share; the keypoints as clean float32.

    kp: (C, ..., J, 3) x, y pixels and confidence; fields: an object with `cameras` (C names),
    `joints`, `skeleton`, `image_size` (C, 2) and `fps`. Joints with confidence 0 become
    (NaN, NaN, 0) and joints with a NaN coordinate get confidence 0, so "missing" has one
    representation. Raises InputError starting with `where`.
    """
    skel = fields.skeleton
    if kp.dtype.kind != "f":
        raise InputError(f"{where}: keypoints must be float, got {kp.dtype}")
    if len(fields.cameras) != C:
        raise InputError(f"{where}: {len(fields.cameras)} camera names for {C} cameras")
    if len(set(fields.cameras)) != C:
        raise InputError(f"{where}: camera names are not unique: {fields.cameras}")
    for name in fields.cameras:
        check_camera_name(name, where)
    if tuple(fields.joints) != skel.joints:
        raise InputError(f"{where}: joints do not match joint set {skel.name} "
                         f"({len(fields.joints)} joints given, {len(skel)} expected, in its "
                         "order)")
    check_shape(fields.image_size, "C, 2", f"{where}: image_size", {"C": C})
    if (fields.image_size <= 0).any() or (fields.image_size > MAX_IMAGE_SIDE).any():
        raise InputError(f"{where}: image_size must be positive pixels (at most "
                         f"{MAX_IMAGE_SIDE}), got {fields.image_size.tolist()}")
    if not (np.isfinite(fields.fps) and fields.fps > 0):
        raise InputError(f"{where}: fps must be positive, got {fields.fps}")
    with np.errstate(over="ignore", invalid="ignore"):  # too large for float32 -> inf, below
        kp = kp.astype(np.float32, copy=True)
    if np.isinf(kp).any():
        raise InputError(f"{where}: keypoints contain infinite values")
    conf = kp[..., 2]
    if np.isnan(conf).any() or (conf < 0).any() or (conf > 1).any():
        raise InputError(f"{where}: confidence must lie in [0, 1] (NaN not allowed)")
    missing = np.isnan(kp[..., :2]).any(axis=-1) | (conf <= 0)
    kp[missing] = (np.nan, np.nan, 0.0)
    return kp
