"""Matching people with known cameras: across views per frame, over time in 3D, left/right swaps.

Given cameras (K, dist, R, t: `cam_from_world`) and raw detections (C, T, S, J, 3) whose S slots
are in a detector's arbitrary order, `match_calibrated` returns an assignment (C, T, S) -> person
index or -1, the number of people P, and the camera-frames whose left and right were exchanged.

1. Across views, per frame: every detection is a bundle of J rays from its camera's centre. The
   distance of two detections of different cameras is the mean over their common joints of the
   ray-to-ray distance (metres), the smaller of it and the one with the second detection's left
   and right exchanged (so a swapped view still matches). Detections are clustered by average-
   linkage agglomeration with at most one detection per camera (a cluster never holds two
   detections of one camera), stopping at `max_ray_distance_m`. Clusters are cycle-consistent
   over all views by construction: the role of MVPose's matchSVT (Dong et al., CVPR 2019) played
   by constrained greedy clustering, as in Tanke & Gall's iterative greedy matching (GCPR 2019).
   All frames advance in lock-step, one merge per frame per step, so there is no loop per frame.
2. Left/right swaps: in a cluster of 3 views or more, each view's joints are compared with the
   reprojection of the 3D triangulated from the other views (leave-one-out); a view whose left
   and right exchanged reproject `swap_ratio` times better is a swap, and is exchanged back.
3. 3D per cluster: the point nearest all rays in the least-squares sense (the midpoint method,
   Hartley & Zisserman 12.5), batched as 3x3 normal equations.
4. Over time (`epicap.people.track3d`): clusters of consecutive frames are linked by Hungarian
   matching on the mean 3D joint distance, and the resulting tracklets are joined across gaps
   (occlusions, a person out of view) by 3D proximity and body size.
5. Leftovers (`epicap.people.attach`): detections in no cluster of two views go to the person
   whose 3D (now or a few frames away) their rays pass through; then every view is tested for
   a swap against the person's 3D of the neighbouring frames (two-view frames have no other
   test), and a clear verdict there overrides step 2's (where two of five views were swapped,
   step 2 may exchange the other three instead: the whole person mirrored in one frame).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix

from epicap.errors import InputError, check_shape
from epicap.geometry.camera import undistort_points
from epicap.geometry.linear_triangulation import solve_sym3
from epicap.people.assignment import order_people, prominence
from epicap.people.attach import attach_leftovers, swaps_over_time
from epicap.people.track3d import TrackOptions, track_clusters
from epicap.session.cameras import Cameras

__all__ = ["MatchOptions", "CalibratedMatch", "match_calibrated", "cluster_views",
           "pair_distances", "unswap"]


@dataclass(frozen=True)
class MatchOptions:
    """Knobs of `match_calibrated`.

    max_ray_distance_m: clusters stop merging beyond this average ray-to-ray distance.
    min_shared_joints: two detections with fewer joints in common are not compared.
    min_confidence: joints below this confidence are ignored.
    swap_ratio, swap_min_px: a view is swapped when, against the other views' 3D, its left/right
        exchanged error is below swap_ratio x its own error and its own error above swap_min_px
        (mean over the left and right joints, pixels).
    track: the 3D tracking over time. attach: give leftover detections to the person whose 3D
        (at that frame or at most attach_gap_frames away) their rays pass through
        (`epicap.people.attach`). swaps_over_time: also test every assigned view against the
        person's 3D of the neighbouring frames (catches swaps in two-view frames, and undoes
        the leave-one-out test's where its neighbours clearly disagree).
    workers: threads for the per-frame work (chunks of frames; numpy releases the GIL).
    """

    max_ray_distance_m: float = 0.15
    min_shared_joints: int = 4
    min_confidence: float = 0.05
    swap_ratio: float = 0.5
    swap_min_px: float = 8.0
    track: TrackOptions = TrackOptions()
    attach: bool = True
    attach_gap_frames: int = 5
    swaps_over_time: bool = True
    workers: int = 2


@dataclass
class CalibratedMatch:
    """The result of `match_calibrated`.

    assignment: (C, T, S) int32 person index of each detection slot, -1 unassigned.
    num_people: P. Person 0 is the main subject, the most prominent (`order_people`).
    swapped: (C, T, S) bool: detections whose left and right were exchanged (fix with `unswap`).
    points3d: (P, T, J, 3) the people's 3D from the matched rays (midpoint method), world metres,
        NaN where not seen by two views: a check, not the final triangulation.
    """

    assignment: np.ndarray
    num_people: int
    swapped: np.ndarray
    points3d: np.ndarray

    @property
    def swaps_per_camera(self) -> np.ndarray:
        """(C,) how many of each camera's detections were found swapped."""
        return self.swapped.sum(axis=(1, 2))


def unswap(detections: np.ndarray, swapped: np.ndarray, flip_index: np.ndarray) -> np.ndarray:
    """Detections (C, T, S, J, 3) with left and right exchanged back where `swapped` (C, T, S)."""
    return np.where(swapped[..., None, None], detections[..., flip_index, :], detections)


def _rays(detections: np.ndarray, cameras: Cameras, min_confidence: float):
    """Rays of every joint: origins (C, 3), directions (T, N, J, 3) unit world vectors, seen
    (T, N, J), normalized image coordinates (T, N, J, 2); node n = c * S + s."""
    C, T, S, J, _ = detections.shape
    xy = undistort_points(detections[..., :2].reshape(C, -1, 2).astype(np.float64), cameras.K,
                          cameras.dist).reshape(C, T, S, J, 2)
    seen = np.isfinite(xy).all(-1) & (detections[..., 2] >= min_confidence)
    d_cam = np.concatenate([xy, np.ones(xy.shape[:-1] + (1,))], axis=-1)
    d = np.matmul(d_cam.reshape(C, -1, 3), cameras.R).reshape(d_cam.shape)  # R^T @ d_cam
    d /= np.linalg.norm(d, axis=-1, keepdims=True)
    d = np.where(seen[..., None], d, np.nan)

    def nodes(a):
        return np.moveaxis(a, 0, 1).reshape((T, C * S) + a.shape[3:])
    return cameras.centers, nodes(d), nodes(seen), nodes(np.where(seen[..., None], xy, np.nan))


def pair_distances(origins: np.ndarray, directions: np.ndarray, flip_index: np.ndarray,
                   num_slots: int, min_shared: int = 4) -> np.ndarray:
    """(T, N, N) mean ray-to-ray distance (metres) between the detections of each frame, the
    smaller of straight and left/right-exchanged; inf within a camera (never together), NaN with
    fewer than `min_shared` joints in common (unknown).

    origins: (C, 3) camera centres, world metres. directions: (T, N, J, 3) unit rays, NaN where a
    joint is unseen; node n = c * num_slots + s. flip_index: (J,) the joint set's left/right map.
    Distance of two lines (H&Z 12.5): |(o_b - o_a) . (d_a x d_b)| / |d_a x d_b|, computed as
    |((o_b - o_a) x d_a) . d_b| / sqrt(1 - (d_a . d_b)^2) for unit rays: dot products only.
    """
    T, N, J, _ = directions.shape
    S = num_slots
    C = N // S
    d = directions.reshape(T, C, S, J, 3).astype(np.float32)
    seen = np.isfinite(d).all(-1)
    d[~seen] = 0.0  # an unseen joint adds 0 to the sum and 0 to the count below
    w = seen.astype(np.float32)                                               # (T, C, S, J)
    comps = np.moveaxis(d, -1, 0)                                             # (3, T, C, S, J)
    out = np.full((T, N, N), np.inf)
    for c1 in range(C):
        for c2 in range(c1 + 1, C):
            a = comps[:, :, c1, :, None]                                      # (3, T, S, 1, J)
            u = np.cross((origins[c2] - origins[c1]).astype(np.float32), d[:, c1])
            u = np.moveaxis(u, -1, 0)[:, :, :, None]
            best = None
            for flip in (slice(None), flip_index):
                b = comps[:, :, c2, None][..., flip]                          # (3, T, 1, S, J)
                cos = a[0] * b[0] + a[1] * b[1] + a[2] * b[2]                 # (T, S, S, J)
                num = np.abs(u[0] * b[0] + u[1] * b[1] + u[2] * b[2])
                total = (num / np.sqrt(np.maximum(1.0 - cos * cos, 1e-6))).sum(-1)
                n = np.matmul(w[:, c1], np.swapaxes(w[:, c2][..., flip], 1, 2))  # (T, S, S)
                with np.errstate(invalid="ignore", divide="ignore"):
                    mean = np.where(n >= min_shared, total / n, np.nan)
                best = mean if best is None else np.fmin(best, mean)
            out[:, c1 * S:(c1 + 1) * S, c2 * S:(c2 + 1) * S] = best
            out[:, c2 * S:(c2 + 1) * S, c1 * S:(c1 + 1) * S] = best.transpose(0, 2, 1)
    return out


def cluster_views(distances: np.ndarray, max_distance: float) -> np.ndarray:
    """(T, N) cluster label of every node: the index of its cluster's representative node.

    distances: (T, N, N) symmetric pair distances; inf where two nodes must never share a cluster
    (the same camera), NaN where unknown (too few joints in common). Average-linkage
    agglomeration over the known pairs, all frames in lock-step: each step merges, in every frame,
    its closest pair of clusters if closer than `max_distance`; a merged cluster inherits every
    "never" of its parts, so one detection per camera holds.
    """
    D = np.asarray(distances, dtype=np.float64)
    T, N, _ = D.shape
    never = np.isinf(D) | np.eye(N, dtype=bool)
    known = np.isfinite(D)
    total = np.where(known, D, 0.0)
    count = known.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        link = np.where(never | (count == 0), np.inf, total / count)
    label = np.broadcast_to(np.arange(N), (T, N)).copy()
    for _ in range(N - 1):
        flat = link.reshape(T, N * N)
        m = flat.argmin(axis=1)
        act = np.nonzero(flat[np.arange(T), m] < max_distance)[0]
        if len(act) == 0:
            break
        i, j = m[act] // N, m[act] % N
        for x in (total, count, never):
            merged = x[act, i] + x[act, j] if x is not never else x[act, i] | x[act, j]
            x[act, i, :] = merged
            x[act, :, i] = merged
        never[act, j, :] = True
        never[act, :, j] = True
        never[act, i, i] = True
        with np.errstate(invalid="ignore", divide="ignore"):
            row = np.where(never[act, i] | (count[act, i] == 0), np.inf,
                           total[act, i] / count[act, i])
        link[act, i, :] = row
        link[act, :, i] = row
        link[act, j, :] = np.inf
        link[act, :, j] = np.inf
        label[act] = np.where(label[act] == j[:, None], i[:, None], label[act])
    return label


def _normal_terms(origins_n: np.ndarray, d: np.ndarray):
    """Per ray, the midpoint system's terms: A = I - d d^T as (…, 6) unique entries, b = A o."""
    dx, dy, dz = d[..., 0], d[..., 1], d[..., 2]
    A = np.stack([1 - dx * dx, -dx * dy, -dx * dz, 1 - dy * dy, -dy * dz, 1 - dz * dz], -1)
    ox, oy, oz = (origins_n[..., k] for k in range(3))
    b = np.stack([A[..., 0] * ox + A[..., 1] * oy + A[..., 2] * oz,
                  A[..., 1] * ox + A[..., 3] * oy + A[..., 4] * oz,
                  A[..., 2] * ox + A[..., 4] * oy + A[..., 5] * oz], -1)
    ok = np.isfinite(A).all(-1)
    return np.where(ok[..., None], A, 0.0), np.where(ok[..., None], b, 0.0), ok


def _solve(A: np.ndarray, b: np.ndarray, views: np.ndarray) -> np.ndarray:
    """Points (..., 3) from summed normal equations A (..., 6), b (..., 3); NaN below 2 views."""
    shape = A.shape[:-1]
    X = solve_sym3(A.reshape(-1, 6).T, b.reshape(-1, 3).T, (views >= 2).reshape(-1))
    return X.T.reshape(shape + (3,))


def match_calibrated(detections: np.ndarray, cameras: Cameras, flip_index: np.ndarray,
                     bones: np.ndarray | None = None,
                     options: MatchOptions = MatchOptions()) -> CalibratedMatch:
    """People matched across the cameras and frames of raw detections (see the module doc).

    detections: (C, T, S, J, 3) pixels of the original images and confidence; empty slots and
        missing joints (NaN, NaN, 0). cameras: C cameras with K, dist, R, t (`cam_from_world`).
    flip_index: (J,) the joint set's left/right exchange (`JointSet.flip_index`).
    bones: (B, 2) joint indices (`JointSet.bone_index`) for the body-size check of the tracking.
    Returns CalibratedMatch: assignment (C, T, S), P, swapped (C, T, S), points3d (P, T, J, 3).
    """
    dims = check_shape(detections, "C, T, S, J, 3", "detections")
    C, T, S, J = dims["C"], dims["T"], dims["S"], dims["J"]
    if not cameras.has_extrinsics:
        raise InputError("matching with cameras needs their rotation and translation")
    if len(cameras) != C:
        raise InputError(f"{len(cameras)} cameras for detections of {C} cameras")
    flip_index = np.asarray(flip_index)
    if T == 0 or S == 0:  # nothing to match
        return CalibratedMatch(np.full((C, T, S), -1, np.int32), 0, np.zeros((C, T, S), bool),
                               np.zeros((0, T, J, 3)))
    chunks = np.array_split(np.arange(T), max(1, min(options.workers, T // 64)))
    if len(chunks) == 1:
        parts = [_associate(detections, cameras, flip_index, options)]
    else:
        from concurrent.futures import ThreadPoolExecutor  # numpy releases the GIL

        with ThreadPoolExecutor(len(chunks)) as pool:
            parts = list(pool.map(lambda f: _associate(detections[:, f[0]:f[-1] + 1], cameras,
                                                       flip_index, options), chunks))
    label, X, size, swapped, seen = (np.concatenate(x) for x in zip(*parts))
    person_of_root, P = track_clusters(X, size, bones, options.track)                # (T, r)
    person = np.take_along_axis(person_of_root, label, axis=1)                # (T, n)
    person[~seen.any(-1)] = -1
    points3d = np.full((P, T, J, 3), np.nan)
    t_idx, r_idx = np.nonzero(person_of_root >= 0)
    points3d[person_of_root[t_idx, r_idx], t_idx] = X[t_idx, r_idx]
    assignment = np.moveaxis(person.reshape(T, C, S), 1, 0).astype(np.int32)
    swapped_cts = np.moveaxis(swapped.reshape(T, C, S), 1, 0) & (assignment >= 0)
    if options.attach:
        assignment, exchanged = attach_leftovers(
            detections, cameras, assignment, points3d, flip_index, options.max_ray_distance_m,
            options.min_shared_joints, options.attach_gap_frames, options.min_confidence)
        swapped_cts |= exchanged
    if options.swaps_over_time:  # two-view clusters have no leave-one-out test
        swapped_cts = swaps_over_time(detections, cameras, assignment, points3d, flip_index,
                                      swapped_cts, min_confidence=options.min_confidence)
    ordered, P_seen = order_people(assignment, P, prominence(detections, cameras.image_size))
    order = np.full(P_seen, -1)
    seen_as = assignment >= 0
    order[ordered[seen_as]] = assignment[seen_as]            # new person -> old person
    swapped_cts &= ordered >= 0
    return CalibratedMatch(ordered.astype(np.int32), P_seen, swapped_cts, points3d[order])


def _associate(detections: np.ndarray, cameras: Cameras, flip_index: np.ndarray,
               options: MatchOptions):
    """Per frame: clusters of views, their 3D and the swapped views (module doc, steps 1-3).

    Returns label (T, N) cluster representative of each node, X (T, N, J, 3) each cluster's 3D
    (at its representative; NaN for clusters of one view), size (T, N) views per cluster,
    swapped (T, N), seen (T, N, J).
    """
    C, T, S, J, _ = detections.shape
    N = C * S
    origins, d, seen, xy = _rays(detections, cameras, options.min_confidence)
    D = pair_distances(origins, d, flip_index, S, options.min_shared_joints)
    label = cluster_views(D, options.max_ray_distance_m)                       # (T, N)
    # sums over each cluster's members as one sparse product: row t*N + root, column t*N + node
    rows = (np.arange(T)[:, None] * N + label).reshape(-1)
    members = csr_matrix((np.ones(T * N), (rows, np.arange(T * N))), shape=(T * N, T * N))

    def per_cluster(x):
        return (members @ x.reshape(T * N, -1)).reshape(x.shape)
    cam = np.arange(N) // S
    o_n = np.broadcast_to(origins[cam][None, :, None, :], d.shape)

    # leave-one-out swap test in clusters of three views or more: per pass, only the most
    # convincing view of a cluster (a swapped view bends the others' leave-one-out 3D too); a
    # second pass may find a second swap in the same cluster. Exchanging a view's left and right
    # only permutes its joints' terms.
    size = np.bincount(rows, minlength=T * N).reshape(T, N)                  # (T, r)
    A_n, b_n, ok_n = _normal_terms(o_n, d)
    ok_n = ok_n.astype(np.float64)
    ti, ni = np.nonzero(seen.any(-1) & (size[np.arange(T)[:, None], label] >= 3))
    sided = flip_index != np.arange(J)  # only joints with a side tell a swap
    ri = label[ti, ni]
    swapped = np.zeros((T, N), dtype=bool)
    A_r, b_r, views_r = per_cluster(A_n), per_cluster(b_n), per_cluster(ok_n)
    todo = np.ones(len(ti), dtype=bool)
    for _ in range(2):
        k = np.nonzero(todo)[0]
        tk, nk, rk = ti[k], ni[k], ri[k]
        X_loo = _solve((A_r[tk, rk] - A_n[tk, nk])[:, sided],
                       (b_r[tk, rk] - b_n[tk, nk])[:, sided],
                       (views_r[tk, rk] - ok_n[tk, nk])[:, sided])             # (M, J', 3)
        flip, score = _swaps(X_loo, xy[tk, nk], cameras, cam[nk], flip_index, options)
        flip &= ~swapped[tk, nk]
        if not flip.any():
            break
        best = np.zeros((T, N))
        np.maximum.at(best, (tk, rk), np.where(flip, score, 0.0))
        new = flip & (score >= best[tk, rk])
        tn, nn, rn = tk[new], nk[new], rk[new]
        swapped[tn, nn] = True
        for x, x_r in ((A_n, A_r), (b_n, b_r), (ok_n, views_r)):  # exchange, update the sums
            old = x[tn, nn]
            x[tn, nn] = old[:, flip_index]
            np.add.at(x_r, (tn, rn), old[:, flip_index] - old)
        xy[tn, nn] = xy[tn, nn][:, flip_index]
        touched = np.zeros((T, N), dtype=bool)
        touched[tn, rn] = True
        todo = touched[ti, ri]  # only clusters that changed can change their verdicts
    X = np.full((T, N, J, 3), np.nan)                                         # (T, r, J, 3)
    tr, rr = np.nonzero(size >= 2)
    X[tr, rr] = _solve(A_r[tr, rr], b_r[tr, rr], views_r[tr, rr])
    return label, X, size, swapped, seen


def _swaps(X_loo: np.ndarray, xy: np.ndarray, cameras: Cameras, cam: np.ndarray,
           flip_index: np.ndarray, options: MatchOptions) -> tuple[np.ndarray, np.ndarray]:
    """((M,) bool, (M,) score): views whose left/right exchanged 2D fit the other views' 3D much
    better, and how much (straight error / exchanged error).

    X_loo: (M, J', 3) world 3D without the view of the J' joints with a side (left or right);
    xy: (M, J, 2) the view's normalized coordinates of all joints;
    cam: (M,) its camera. Errors in pixels (normalized error times the focal length), over the
    joints with a side.
    """
    R, t = cameras.R[cam], cameras.t[cam]                                     # (M, 3, 3), (M, 3)
    x_cam = np.matmul(X_loo, R.transpose(0, 2, 1)) + t[:, None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        proj = x_cam[..., :2] / np.where(x_cam[..., 2:] > 0, x_cam[..., 2:], np.nan)
    focal = cameras.K[cam, 0, 0][:, None]
    sided = flip_index != np.arange(len(flip_index))
    straight = np.linalg.norm(proj - xy[:, sided], axis=-1) * focal
    exchanged = np.linalg.norm(proj - xy[:, flip_index][:, sided], axis=-1) * focal
    both = np.isfinite(straight) & np.isfinite(exchanged)
    n = both.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        e0 = np.where(both, straight, 0).sum(-1) / n
        e1 = np.where(both, exchanged, 0).sum(-1) / n
        score = e0 / np.maximum(e1, 1e-9)
    flag = (n >= 4) & (e0 > options.swap_min_px) & (e1 < options.swap_ratio * e0)
    return flag, np.where(flag, score, 0.0)
