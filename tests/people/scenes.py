"""Synthetic raw detections of several people, from the single-person synthetic machinery.

Each person is an embedded mocap clip (`epicap.synthetic.mocap.load_clip`) moved to its own place
in the room, seen by a ring of cameras (`epicap.synthetic.rig.ring_rig`) through
`epicap.geometry.camera.project_points`, with Gaussian noise, and written into detection slots in
a shuffled order per camera and frame, as a detector reports them. Options plant what matching
must survive: a bystander standing still, people entering and leaving, occlusions (a person lost
by one camera for a block of frames).

(The fuller generator is `epicap.synthetic.people`; this helper only needs what the tests of
`epicap.people` need.)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from epicap.geometry.camera import project_points
from epicap.synthetic.mocap import load_clip
from epicap.synthetic.rig import ring_rig

# (clip, start s, turn deg/s, centre x, y metres): people around the middle of the room
PEOPLE = [("walk", 0.0, 40.0, 0.0, 0.0), ("dance_a", 0.0, 0.0, 1.6, 0.9),
          ("walk", 1.3, -35.0, -1.4, -1.2), ("dance_a", 2.0, 0.0, -1.5, 1.3),
          ("walk", 0.6, 30.0, 1.5, -1.5), ("dance_a", 1.0, 0.0, 0.2, 2.0)]


@dataclass
class PeopleScene:
    """detections: (C, T, S, J, 3) float32 shuffled slots; truth: (C, T, S) int true person of
    each slot (-1 empty); poses3d: (P, T, J, 3) metres; cameras: the rig; image_size (C, 2)."""

    detections: np.ndarray
    truth: np.ndarray
    poses3d: np.ndarray
    cameras: object
    image_size: np.ndarray


def make_people_scene(num_people: int = 3, num_cameras: int = 4, num_frames: int = 150,
                      noise_px: float = 2.0, bystander: bool = False,
                      present: dict | None = None, lost: dict | None = None,
                      seed: int = 0) -> PeopleScene:
    """A scene of `num_people` moving people (+ a still bystander when asked).

    present: person -> (start, stop) frames in which they are in the room (enter / leave).
    lost: (camera, person) -> (start, stop) frames in which that camera does not see them.
    """
    rng = np.random.default_rng(seed)
    poses = []
    for name, start, turn, x, y in PEOPLE[:num_people]:
        clip = load_clip(name, "coco17", fps=30.0, num_frames=num_frames, start_s=start,
                         turn_deg_per_s=turn)
        poses.append(clip.positions + np.array([x, y, 0.0]))
    if bystander:  # standing still at the back
        still = load_clip("walk", "coco17", fps=30.0, num_frames=1).positions
        poses.append(np.repeat(still, num_frames, 0) + np.array([3.0, 2.5, 0.0]))
    poses3d = np.stack(poses)  # (P, T, J, 3)
    P, T, J, _ = poses3d.shape
    cams = ring_rig(num_cameras, radius_m=6.0, focal_px=1100.0, image_size=(1920, 1080),
                    jitter_deg=3.0, seed=seed)
    C = len(cams)
    px, _ = project_points(poses3d.reshape(-1, 3), cams.K, cams.R, cams.t, cams.dist)
    px = px.reshape(C, P, T, J, 2) + rng.normal(scale=noise_px, size=(C, P, T, J, 2))
    size = cams.image_size[:, None, None, None, :]
    seen = np.isfinite(px).all(-1) & (px >= 0).all(-1) & (px < size).all(-1)
    visible = np.ones((C, P, T), dtype=bool)
    for p, (a, b) in (present or {}).items():
        visible[:, p, :a] = False
        visible[:, p, b:] = False
    for (c, p), (a, b) in (lost or {}).items():
        visible[c, p, a:b] = False
    seen &= visible[..., None]
    kp = np.concatenate([px, rng.uniform(0.7, 1.0, (C, P, T, J, 1))], -1)
    kp[~seen] = (np.nan, np.nan, 0.0)
    S = P + 1  # one slot always empty somewhere
    det = np.full((C, T, S, J, 3), np.nan, dtype=np.float32)
    det[..., 2] = 0
    truth = np.full((C, T, S), -1, dtype=np.int32)
    for c in range(C):
        for t in range(T):
            slots = rng.permutation(S)
            for p in range(P):
                if seen[c, p, t].sum() >= 3:
                    det[c, t, slots[p]] = kp[c, p, t]
                    truth[c, t, slots[p]] = p
    return PeopleScene(det, truth, poses3d, cams, cams.image_size.copy())


def identity_accuracy(assignment: np.ndarray, truth: np.ndarray) -> tuple[float, dict]:
    """(fraction of true detections given their person's matched id, found person -> truth).

    Each found person is mapped to the true person it most often covers (one to one, by a
    Hungarian assignment on the counts); detections assigned to no one or to the wrong one count
    as errors.
    """
    from scipy.optimize import linear_sum_assignment

    P_found = int(assignment.max()) + 1
    P_true = int(truth.max()) + 1
    counts = np.zeros((max(P_found, 1), P_true))
    both = (assignment >= 0) & (truth >= 0)
    np.add.at(counts, (assignment[both], truth[both]), 1)
    r, c = linear_sum_assignment(-counts)
    mapping = {int(a): int(b) for a, b in zip(r, c) if counts[a, b] > 0}
    right = sum(counts[a, b] for a, b in mapping.items())
    return float(right / max((truth >= 0).sum(), 1)), mapping
