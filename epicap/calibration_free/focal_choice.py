"""Unknown focal lengths: every camera's, chosen by how well a whole quick solve fits the joints.

Two starts, each finished by resecting every camera on its own (`focal_resection`):
- one focal length shared by all cameras, searched over the fields of view (`focal_search`):
  right for a rig of one camera model and for rigs whose optical axes nearly meet, where closed
  forms are ill-conditioned;
- every camera's own focal length from the fundamental matrices (Mendonca & Cipolla, `focal`):
  right for a rig that mixes lenses 2-6x apart, where a shared value leaves some cameras out
  of the solve, and where resection against a rig solved at one wrong value only confirms it
  (its joints are triangulated wrong in the same way; measured on random rigs: 12 of 65 rigs
  of 4+ cameras failed, others were 5-9 deg off).
The start whose quick solve has the lower median reprojection error is kept; a camera that a
quick solve leaves out counts its joints as infinitely far, so a focal length that loses a
camera is worse, not impossible. A start whose resected (and settled) focal lengths make its
quick solve fit worse than the start itself did is kept as it was: resection decides each
camera on its own, by a margin that noise can tip (on the Pose2Sim two-person videos one
camera's resection went from 1747 to 1956 px with the BLAS threads, the shared start then fitted
9.54 px instead of 8.93 and lost to the closed form, whose focal lengths spread 25%).
"""
from __future__ import annotations

import numpy as np

from epicap.calibration_free.focal import estimate_focal
from epicap.calibration_free.focal_search import search_focal
from epicap.calibration_free.pairs import best_pair, estimate_pairs
from epicap.calibration_free.register import register_cameras, triangulate_joints
from epicap.errors import GeometryError
from epicap.geometry.bundle_adjustment import BundleAdjustmentOptions, bundle_adjust
from epicap.geometry.camera import undistort_points

__all__ = ["FocalChoice", "choose_focals", "quick_solve_cost", "own_focals", "centred_K",
           "normalize"]

# frames (evenly spread) of each quick solve of the focal search: its Brent refinement's and
# its grid's, which only brackets the minimum. Measured on the Pose2Sim demo (100 frames): 50
# frames find the same focal length as 100 (-0.6..-1.1% off), 30 move the cost's minimum by
# about 5%, well inside the grid's 26% steps.
FOCAL_FRAMES, GRID_FRAMES = 50, 30
# PnP RANSAC iterations of those quick solves (the final solve keeps register's 2000): with their
# low inlier shares RANSAC always ran all 2000, 40% of an unknown-focal calibration's time.
FOCAL_SEARCH_PNP_ITERATIONS = 300
# a shared start whose resected focal lengths are this close is one camera model: it is not
# settled (freed focal lengths drift with detector bias: +5..12% on the Pose2Sim demo, OpenPose,
# where the search is 1% off)
ALIKE = 1.15
# the per-camera start is kept only when its quick solve fits clearly better than the shared
# one's: one focal length is the simpler model (on the Pose2Sim demo the settled per-camera
# values fit 1% worse; random rigs that mix lenses 1.7-4x apart fit 10-30% better)
CLEARLY_BETTER = 0.95


class FocalChoice:
    """What `choose_focals` found: focal_px (C,) pixels, `start` ("shared search" or "closed
    form", the start kept), cost (its quick solve's median reprojection error, pixels) and the
    costs of every start tried ({start: pixels})."""

    def __init__(self, focal_px, start, cost, costs):
        self.focal_px, self.start, self.cost, self.costs = focal_px, start, cost, costs


def centred_K(size, focal_px):
    """(C, 3, 3) intrinsics: focal lengths (C,) pixels, principal point at the image centre."""
    K = np.zeros((len(size), 3, 3))
    K[:, 0, 0] = K[:, 1, 1] = focal_px
    K[:, :2, 2] = (np.asarray(size, np.float64) - 1) / 2
    K[:, 2, 2] = 1
    return K


def normalize(px, K, dist):
    """px (C, ..., 2) pixels -> normalized, undistorted image coordinates, same shape."""
    C = px.shape[0]
    return undistort_points(px.reshape(C, -1, 2), K, dist).reshape(px.shape)


def _subsample(px, w, max_frames):
    F = px.shape[1]
    sub = np.linspace(0, F - 1, min(F, max_frames)).astype(int)
    return px[:, sub], w[:, sub]


def _quick_solve(px, w, size, focal_px, options, max_frames, focal="fixed"):
    """(BundleAdjustmentResult or None, registered camera indices, subsampled w) of a quick
    solve: pooled pairs, registration and a short adjustment (principal points centred, no
    distortion) on up to `max_frames` frames; focal "fixed" or "per_camera" (freed, no prior)."""
    C = px.shape[0]
    px, w = _subsample(px, w, max_frames)
    f = np.broadcast_to(np.asarray(focal_px, np.float64), (C,)).copy()
    K = centred_K(size, f)
    dist = np.zeros((C, 5))
    xy = normalize(px, K, dist)
    first = best_pair(estimate_pairs(xy, w, f, options.threshold_px,
                                     min_points=options.min_points // 2))
    if first is None:
        return None, [], w
    reg = register_cameras(xy, w, f, first, options.threshold_px, options.min_points // 2,
                           ransac_iterations=FOCAL_SEARCH_PNP_ITERATIONS)
    used = [c for c in range(C) if np.isfinite(reg.R[c]).all()]
    if len(used) < 2:
        return None, used, w
    wu = w[used].reshape(len(used), -1)
    ba = bundle_adjust(px[used].reshape(len(used), -1, 2), wu, K[used], dist[used], reg.R[used],
                       reg.t[used], reg.points3d.reshape(-1, 3), None,
                       BundleAdjustmentOptions(rounds=2 if focal == "fixed" else 3, focal=focal))
    return (ba if ba.success else None), used, w


def quick_solve_cost(px, w, size, focal_px, options, max_frames=100):
    """Median reprojection error (pixels) of a quick solve at fixed focal lengths.

    px: (C, F, J, 2) pixels, w: (C, F, J) weights, size: (C, 2), focal_px: one value for every
    camera or (C,). Pooled pairs, registration and a short bundle adjustment at fixed intrinsics
    (principal points centred, no distortion) on up to `max_frames` frames. Joints that could
    not be triangulated, and every joint of a camera the solve left out, count as infinitely
    far; inf when fewer than two cameras register or the adjustment fails.
    """
    ba, used, w = _quick_solve(px, w, size, focal_px, options, max_frames)
    if ba is None:
        return np.inf
    e = np.full(w.shape, np.inf)
    e[used] = np.where(np.isfinite(ba.residuals_px), ba.residuals_px,
                       np.inf).reshape(len(used), *w.shape[1:])
    return float(np.median(e[w > 0]))


def settle_focals(px, w, size, focal_px, options, rounds=4, tol=0.01):
    """((C,) focal lengths, registered (C,) bool): quick solves with every registered camera's
    focal length freed (no prior), each registering again at the last one's values, until no
    focal length moves by more than `tol` (relative) or after `rounds`.

    From a start within a factor of 2-3 the adjustment walks to the joints' own focal lengths,
    where resection against a rig solved at wrong values confirms them (measured on random rigs:
    a camera 240% off came to 1%). A camera no quick solve registered keeps its start."""
    f = np.asarray(focal_px, np.float64).copy()
    registered = np.zeros(len(f), bool)
    for _ in range(rounds):
        ba, used, _ = _quick_solve(px, w, size, f, options, FOCAL_FRAMES, focal="per_camera")
        if ba is None:
            break
        new = f.copy()
        new[used] = ba.K[:, 0, 0]
        registered[:] = False
        registered[used] = True
        moved = np.max(np.abs(np.log(new / f)))
        f = new
        if moved < tol:
            break
    return f, registered


def own_focals(px, w, size, focal_px, options, max_frames=100, passes=2):
    """(C,) each camera's focal length, resected against the joints the others triangulate
    (`focal_resection`), from quick solves on up to `max_frames` frames; `focal_px` (C,) where a
    camera's own does not fit clearly better or fewer than 3 cameras register. A camera the
    quick solve leaves out is resected too (against the others' joints)."""
    from epicap.calibration_free.focal_resection import resect_focals

    C = px.shape[0]
    px, w = _subsample(px, w, max_frames)
    f = np.asarray(focal_px, dtype=np.float64).copy()
    for _ in range(passes):
        xy = normalize(px, centred_K(size, f), np.zeros((C, 5)))
        first = best_pair(estimate_pairs(xy, w, f, options.threshold_px,
                                         min_points=options.min_points // 2))
        if first is None:
            break
        reg = register_cameras(xy, w, f, first, options.threshold_px, options.min_points // 2,
                               ransac_iterations=FOCAL_SEARCH_PNP_ITERATIONS)
        used = [c for c in range(C) if np.isfinite(reg.R[c]).all()]
        if len(used) < 3:
            break
        points, pixels = [], []
        for c in range(C):
            others = [k for k in used if k != c]
            X = triangulate_joints(reg.R, reg.t, xy, w, others, f, 2 * options.threshold_px)
            ok = np.isfinite(X).all(-1) & (w[c] > 0) & np.isfinite(px[c]).all(-1)
            points.append(X[ok] if len(others) >= 2 else None)
            pixels.append(px[c][ok])
        new = resect_focals(points, pixels, size, f, options.threshold_px)
        if np.allclose(new, f):
            break
        f = new
    return f


def choose_focals(px, w, size, options, phase=lambda name: None) -> FocalChoice:
    """Every camera's focal length (pixels), principal points taken at the image centre.

    px: (C, F, J, 2) pixels (NaN unseen), w: (C, F, J) weights, size: (C, 2) image width and
    height. options: CalibrationOptions (`shared_focal`: one value for all, the search's;
    `own_focal`: finish each start by resection). phase(name): progress callback.
    Raises GeometryError when no start gives a solve.
    """
    C = px.shape[0]
    closed = estimate_focal(px, w, size, per_camera=not options.shared_focal,
                            threshold_px=options.threshold_px)

    def cost(f_px, max_frames=FOCAL_FRAMES):
        phase(f"focal search, {f_px:.0f} px")
        return quick_solve_cost(px, w, size, f_px, options, max_frames)

    search = search_focal(cost, float(np.linalg.norm(size, axis=1).mean()),
                          extra=(closed.shared_px,) if closed.success else (),
                          coarse=lambda f_px: cost(f_px, GRID_FRAMES))
    starts = {}
    if search.success:
        starts["shared search"] = np.full(C, search.focal_px)
    if options.shared_focal:
        if not starts:
            raise GeometryError(f"cannot estimate the focal length: {search.message}; "
                                "give the intrinsics (--intrinsics)")
        return FocalChoice(starts["shared search"], "shared search", search.cost,
                           {"shared search": search.cost})
    if closed.success and C >= 3 and not np.allclose(closed.focal_px, closed.shared_px):
        starts["closed form"] = closed.focal_px
    unresected = dict(starts)
    if options.own_focal:
        phase("each camera's focal length")
        starts = {k: own_focals(px, w, size, f, options) for k, f in starts.items()}
    for k, f in list(starts.items()):
        if k == "shared search" and f.max() <= ALIKE * f.min():
            continue  # one camera model: its search is the estimate (settling fits bias)
        phase(f"focal lengths settling ({k})")
        settled, registered = settle_focals(px, w, size, f, options)
        if options.own_focal and not registered.all():  # resect what no quick solve registered
            settled = own_focals(px, w, size, settled, options, passes=1)
            settled, _ = settle_focals(px, w, size, settled, options, rounds=2)
        starts[k] = settled
    costs = {k: quick_solve_cost(px, w, size, f, options, FOCAL_FRAMES)
             for k, f in starts.items()}
    for k, start in unresected.items():  # resection is a per-camera test: keep what fits better
        if np.allclose(starts[k], start) or not np.isfinite(costs[k]):
            continue
        before = search.cost if k == "shared search" else \
            quick_solve_cost(px, w, size, start, options, FOCAL_FRAMES)
        if before < costs[k]:
            starts[k], costs[k] = start, before
    if not costs or not np.isfinite(min(costs.values())):
        why = search.message or "no start (shared or per camera) gave a consistent rig"
        raise GeometryError(f"cannot estimate the focal length: {why}; give the intrinsics "
                            "(--intrinsics)")
    best = min(costs, key=costs.get)
    shared = costs.get("shared search", np.inf)
    if best != "shared search" and np.isfinite(shared) and costs[best] > CLEARLY_BETTER * shared:
        best = "shared search"  # one focal length explains the joints about as well: simpler
    return FocalChoice(starts[best], best, costs[best], costs)
