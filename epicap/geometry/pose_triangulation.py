"""Triangulation of whole pose sequences: the skeleton and time decide what one point cannot.

`triangulate` decides each point from its own views. With few cameras that is ambiguous for a
few points in a hundred: when two of four views are outliers, a wrong pair of views can agree by
chance as well as the right pair does; when three are, two outliers can agree and give a point
metres away. A frame and a sequence tell these cases apart: a joint lies near its own body (the
frame's median joint), within a bone's length of its neighbours (the sequence's median bone
lengths), and near where the same joint was a few frames before and after. `triangulate_poses`
triangulates every point, marks the points that break these constraints, and re-decides only
those: every camera pair's hypothesis (its inliers re-solved, scored by confidence-weighted MSAC,
`view_selection.pair_hypotheses`) that passes the constraints competes; when none does, the
point is not triangulated (NaN) rather than returned as garbage. All of it is batched over
frames and joints; the loops run over camera pairs, neighbouring frames and bones.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from epicap.errors import InputError
from epicap.geometry.camera import pad_distortion, project_points
from epicap.geometry.linear_triangulation import Rig, normalize_views
from epicap.geometry.triangulation import TriangulationOptions, TriangulationResult, triangulate
from epicap.geometry.view_selection import pair_hypotheses

__all__ = ["ConsistencyOptions", "PoseTriangulationResult", "implausible_joints",
           "triangulate_poses"]


@dataclass(frozen=True)
class ConsistencyOptions:
    """What a plausible joint is, for `triangulate_poses` and `implausible_joints`.

    max_extent_m: farthest a joint may lie from its frame's median joint (metres); None: no test.
    max_speed_m_s: fastest a joint may move (metres per second; a kick's foot reaches ~10 m/s):
        the temporal terms of a joint say whether it lies within `max_speed_m_s * k / fps +
        slack_m` of the same joint k frames away, for each neighbouring frame within `window`.
        None, or no fps given: no temporal terms.
    window: neighbouring frames on each side for the temporal terms.
    bone_tolerance: the bone terms of a joint say whether its distance to each skeleton neighbour
        lies within `bone_tolerance` x length + `slack_m` of the bone's median length over the
        sequence. None, or no bones given: no bone terms.
    A joint is implausible when it lies beyond `max_extent_m`, or when more than half of its
    temporal and bone terms (those whose reference exists) fail.
    slack_m: metres added to the temporal and bone tolerances (the noise of the 3D points).
    """

    max_extent_m: float | None = 2.0
    max_speed_m_s: float | None = 10.0
    window: int = 2
    bone_tolerance: float | None = 0.25
    slack_m: float = 0.1

    def __post_init__(self):
        for name in ("max_extent_m", "max_speed_m_s", "bone_tolerance"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise InputError(f"{name} must be positive or None, got {value}")
        if int(self.window) < 1 or not self.slack_m >= 0:
            raise InputError(f"window must be >= 1 and slack_m >= 0, got {self.window}, "
                             f"{self.slack_m}")


@dataclass
class PoseTriangulationResult(TriangulationResult):
    """A `TriangulationResult` for (T, J) points, plus what the consistency stage did.

    reselected: (T, J) bool, points whose views were re-chosen by the skeleton and time.
    rejected: (T, J) bool, points triangulated by `triangulate` but dropped (NaN) because no
        hypothesis was plausible.
    """

    reselected: np.ndarray = field(default=None)
    rejected: np.ndarray = field(default=None)


def implausible_joints(poses: np.ndarray, options: ConsistencyOptions = ConsistencyOptions(),
                       bones: np.ndarray | None = None, fps: float | None = None) -> np.ndarray:
    """(T, J) bool: triangulated joints that break the skeleton or time constraints of `options`.

    poses: (T, J, 3) world metres, NaN where missing (never flagged). bones: (B, 2) joint indices
    (`JointSet.bone_index`), or None. fps: frames per second, or None (no temporal test).
    """
    poses = np.asarray(poses, dtype=np.float64)
    if poses.ndim != 3 or poses.shape[-1] != 3:
        raise InputError(f"poses: expected shape (T, J, 3), got {poses.shape}")
    T, J, _ = poses.shape
    frame, joint = np.nonzero(np.isfinite(poses).all(-1))
    bad = np.zeros((T, J), dtype=bool)
    ref = _References(poses, options, bones, fps)
    bad[frame, joint] = ~_plausible(ref, poses[frame, joint], frame, joint)
    return bad


class _References:
    """What candidates are checked against, built from a first triangulation (T, J, 3)."""

    def __init__(self, poses, options, bones, fps):
        self.options, self.fps = options, fps
        valid = np.isfinite(poses).all(-1)
        self.centre = np.full((poses.shape[0], 3), np.nan)
        some = valid.any(-1)
        self.centre[some] = np.nanmedian(poses[some], axis=1)
        poses = poses.copy()
        if options.max_extent_m is not None:  # far joints are no reference for their neighbours
            with np.errstate(invalid="ignore"):
                far = np.linalg.norm(poses - self.centre[:, None], axis=-1) > options.max_extent_m
            poses[far] = np.nan
        self.poses = poses
        self.bones = None
        if bones is not None and options.bone_tolerance is not None and len(bones):
            bones = np.asarray(bones, dtype=np.int64).reshape(-1, 2)
            with np.errstate(invalid="ignore"):
                lengths = np.linalg.norm(poses[:, bones[:, 0]] - poses[:, bones[:, 1]], axis=-1)
            seen = np.isfinite(lengths).any(0)
            self.length = np.full(len(bones), np.nan)
            self.length[seen] = np.nanmedian(lengths[:, seen], axis=0)
            self.bones = bones


def _plausible(ref: _References, Y, frame, joint, deviation: bool = False):
    """(n,) bool: candidates Y (n, 3) at (frame, joint) lie within the extent, and at least half
    of their temporal and bone terms with data pass (True where none has data). With
    `deviation`, also (n,) the mean over the temporal and bone terms of distance / limit (each
    clipped at 2; 0 where no term applies)."""
    opts, T = ref.options, ref.poses.shape[0]
    ok = np.isfinite(Y).all(-1)
    ratio = np.zeros((2, len(Y)))  # sum of distance / limit, number of terms
    votes = np.zeros((2, len(Y)), dtype=np.int64)  # terms passed, failed
    if opts.max_extent_m is not None:
        ok &= ~(_distance(Y, ref.centre[frame]) > opts.max_extent_m)
    if opts.max_speed_m_s is not None and ref.fps:
        for k in range(-opts.window, opts.window + 1):
            if k:
                other = ref.poses[np.clip(frame + k, 0, T - 1), joint]
                inside = (frame + k >= 0) & (frame + k < T)
                _vote(votes, ratio, slice(None), _distance(Y, other),
                      opts.max_speed_m_s * abs(k) / ref.fps + opts.slack_m, inside)
    if ref.bones is not None:
        for (a, b), length in zip(ref.bones, ref.length):
            for this, other in ((a, b), (b, a)):
                idx = np.flatnonzero(joint == this)
                if idx.size:
                    d = _distance(Y[idx], ref.poses[frame[idx], other])
                    _vote(votes, ratio, idx, np.abs(d - length),
                          opts.bone_tolerance * length + opts.slack_m, True)
    ok &= votes[1] <= votes[0]
    if deviation:
        return ok, ratio[0] / np.maximum(ratio[1], 1)
    return ok


def _distance(A, B):
    """(n,) Euclidean distances between rows of A and B (n, 3); NaN where either is NaN."""
    d = A - B
    return np.sqrt(d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1] + d[:, 2] * d[:, 2])


def _vote(votes, ratio, idx, distance, limit, applies):
    """Count a term for the candidates idx: passed where distance <= limit, failed where above;
    NaN distances (no reference) and terms that do not apply count for neither. ratio (2, n)
    gathers the sum of min(distance / limit, 2) and the number of terms."""
    with np.errstate(invalid="ignore"):
        applies = applies & np.isfinite(distance)
        votes[0, idx] += applies & (distance <= limit)
        votes[1, idx] += applies & (distance > limit)
        ratio[0, idx] += np.where(applies, np.minimum(distance / limit, 2.0), 0.0)
        ratio[1, idx] += applies


def triangulate_poses(points2d: np.ndarray, K: np.ndarray, R: np.ndarray, t: np.ndarray,
                      dist: np.ndarray | None = None, confidence: np.ndarray | None = None,
                      options: TriangulationOptions = TriangulationOptions(),
                      consistency: ConsistencyOptions = ConsistencyOptions(),
                      bones: np.ndarray | None = None,
                      fps: float | None = None) -> PoseTriangulationResult:
    """Robust triangulation of keypoint sequences, checked against the skeleton and time.

    points2d: (C, T, J, 2) pixels of the original images, NaN where unseen. K, R, t, dist,
        confidence, options: as in `triangulate` (`cam_from_world`, metres).
    consistency: the constraints (`ConsistencyOptions`). bones: (B, 2) joint indices of the
        skeleton (`JointSet.bone_index`), or None. fps: frames per second, or None (no temporal
        test; e.g. frames that are not a sequence).
    Returns a PoseTriangulationResult, points (T, J, 3) in world metres.

    Steps: `triangulate` every point; flag the triangulated points that are implausible
    (`implausible_joints`, against references from this first pass); for those, every camera
    pair's hypothesis, its inliers re-solved, is checked the same way, and the plausible one of
    least weighted MSAC cost wins, each paying up to one view's truncated cost for its distance
    from the references (the mean of distance / limit over its time and bone terms, squared). A
    hypothesis that fails a cheap validity check is discarded before scoring, as RANSAC
    implementations do for degenerate models. With `drop_worst`, or no outlier threshold,
    implausible points are dropped, not re-chosen.

    Example:
        >>> K = np.tile(np.array([[800.0, 0, 320], [0, 800, 240], [0, 0, 1]]), (3, 1, 1))
        >>> R = np.tile(np.eye(3), (3, 1, 1)); t = np.array([[0, 0, 0], [-1, 0, 0], [0, -1, 0.]])
        >>> X = np.array([[[0.4, 0.2, 4.0], [0.4, 0.6, 4.0]]])                   # (T, J, 3)
        >>> x = X[None] + t[:, None, None]                                       # camera frames
        >>> pixels = 800 * x[..., :2] / x[..., 2:] + [320, 240]                  # (C, T, J, 2)
        >>> res = triangulate_poses(pixels, K, R, t, bones=np.array([[0, 1]]))
        >>> np.round(res.points3d, 6) + 0.0, res.views
        (array([[[0.4, 0.2, 4. ],
                [0.4, 0.6, 4. ]]]), array([[3, 3]]))
    """
    pts = np.asarray(points2d, dtype=np.float64)
    if pts.ndim != 4 or pts.shape[-1] != 2:
        raise InputError(f"points2d: expected shape (C, T, J, 2), got {pts.shape}")
    if fps is not None and not (np.isfinite(fps) and fps > 0):
        raise InputError(f"fps must be positive, got {fps}")
    if bones is not None:
        bones = np.asarray(bones, dtype=np.int64).reshape(-1, 2)
        if bones.size and (bones.min() < 0 or bones.max() >= pts.shape[2]):
            raise InputError(f"bones: joint indices must lie in 0..{pts.shape[2] - 1}")
    first = triangulate(pts, K, R, t, dist, confidence, options)
    C, T, J, _ = pts.shape
    poses = first.points3d.copy()
    inliers = first.inliers.copy()
    error = first.reprojection_error.copy()
    ref = _References(poses, consistency, bones, fps)
    frame, joint = np.nonzero(first.valid)
    suspect = ~_plausible(ref, poses[frame, joint], frame, joint)
    frame, joint = frame[suspect], joint[suspect]
    ref.poses[frame, joint] = np.nan  # suspects are no reference for their neighbours
    reselected = np.zeros((T, J), dtype=bool)
    rejected = np.zeros((T, J), dtype=bool)
    threshold = first.threshold_px
    pairs = options.uses_pair_search(C)
    if frame.size:
        if threshold is not None and pairs:
            X, keep = _reselect(pts[:, frame, joint], confidence, frame, joint, K, R, t, dist,
                                threshold, options, ref)
        else:
            X, keep = np.full((frame.size, 3), np.nan), np.zeros((C, frame.size), dtype=bool)
        found = np.isfinite(X).all(-1)
        poses[frame, joint] = X
        inliers[:, frame, joint] = keep & found
        changed = found & (keep != first.inliers[:, frame, joint]).any(0)
        reselected[frame[changed], joint[changed]] = True
        rejected[frame[~found], joint[~found]] = True
        error[frame, joint] = _pixel_error(pts[:, frame, joint], X, inliers[:, frame, joint],
                                           K, R, t, dist)
    views = inliers.sum(0)
    return PoseTriangulationResult(poses, error, views, inliers, threshold, reselected, rejected)


def _reselect(pixels, confidence, frame, joint, K, R, t, dist, threshold, options, ref):
    """The plausible pair hypothesis of least cost for each suspect point: (X (n, 3), views
    (C, n)); NaN and no views where none is plausible or has `options.min_views` views."""
    K, R, t = (np.asarray(a, dtype=np.float64) for a in (K, R, t))
    conf = (np.ones(pixels.shape[:2]) if confidence is None
            else np.asarray(confidence, dtype=np.float64)[:, frame, joint])
    dist = None if dist is None else pad_distortion(np.asarray(dist, dtype=np.float64))
    cam = Rig(R, t, K)
    u, v, w, _ = normalize_views(pixels, conf, K, dist if dist is not None and dist.any() else None,
                                 options.min_confidence)
    Xh, cost, keep = pair_hypotheses(cam, u, v, w, threshold)           # (H, 3, n) (H, n) (H, C, n)
    # a plausible hypothesis pays for straying from the skeleton and time: up to one view's
    # truncated cost at the limit, so a hypothesis near its references wins a near tie
    penalty = threshold ** 2 * np.where(w > 0, w, np.nan)
    penalty = np.where(np.isfinite(penalty).any(0), np.nanmax(penalty, axis=0), 0.0)
    for h in range(len(Xh)):
        fine, deviation = _plausible(ref, Xh[h].T, frame, joint, deviation=True)
        fine &= keep[h].sum(0) >= options.min_views
        cost[h] = np.where(fine, cost[h] + penalty * deviation ** 2, np.inf)
    best = np.argmin(cost, axis=0)
    n = np.arange(u.shape[1])
    found = np.isfinite(cost[best, n])
    X = np.where(found[:, None], Xh[best, :, n], np.nan)
    return X, keep[best, :, n].T & found


def _pixel_error(pixels, X, used, K, R, t, dist):
    """(n,) mean distance (pixels, original images) between pixels (C, n, 2) and X (n, 3)
    projected, over the views used (C, n); NaN where none."""
    proj, _ = project_points(np.where(np.isfinite(X), X, 0.0), K, R, t, dist)
    with np.errstate(invalid="ignore", divide="ignore"):
        d = np.linalg.norm(proj - pixels, axis=-1)
        return np.where(used, d, 0.0).sum(0) / np.where(used.any(0), used.sum(0), np.nan)
