"""Benchmark: batched robust triangulation vs plain DLTs and OpenCV, speed and accuracy.

Scene: C cameras (4 or 8) on a 4 m ring at 1.5 m height, f = 1000 px, 1920x1080, looking at a
cloud of "joints" around a standing body (normal, sd 0.3/0.3/0.5 m about (0, 0, 1)); T = 30,000
frames of J = 17 joints. 2D: exact projection + Gaussian noise (1, 2, 5 px per coordinate); 10%
of the (camera, frame, joint) detections replaced by a uniformly random pixel (outlier joints).

Methods, all timed in the same run on the 2 px data (frames/s = T / seconds; best of 2 runs):
- `triangulate` (epicap, robust: camera-pair hypotheses, or drop-worst), with and without refine;
- the same followed by the session stage's body-extent check (`filtering.far_joints`, 2 m);
- `triangulate` with the outlier search off (plain confidence-weighted DLT, same code path);
- `triangulate_dlt` (the batched closed-form kernel alone, pixel projection matrices);
- a plain numpy DLT: the 2C x 4 system of every point solved by a batched SVD (H&Z 12.2);
- `cv2.triangulatePoints` as a user would call it: a loop over frames and camera pairs, pairs
  averaged (timed on 2,000 frames).
MPJPE (mm) against the truth over the joints each method triangulated, and the share it did.
"Oracle" triangulates with the outlier views removed using the true mask: the best any outlier
rejection can do. Run: `python benchmarks/triangulation.py [--frames T]`.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from epicap.console import format_table
from epicap.geometry.camera import project_points, projection_matrices
from epicap.geometry.filtering import far_joints
from epicap.geometry.triangulation import TriangulationOptions, triangulate, triangulate_dlt

J = 17
NOISE_PX = (1.0, 2.0, 5.0)
OUTLIER_RATE = 0.1
SIZE = (1920, 1080)


def ring_rig(C, radius=4.0, height=1.5, focal=1000.0):
    """K, R, t of C cameras on a ring around the origin, looking at (0, 0, 1)."""
    angle = np.linspace(0, 2 * np.pi, C, endpoint=False)
    centers = np.stack([radius * np.cos(angle), radius * np.sin(angle), np.full(C, height)], 1)
    R = []
    for c in centers:
        z = np.array([0.0, 0.0, 1.0]) - c
        z /= np.linalg.norm(z)
        x = np.cross(z, [0.0, 0.0, 1.0])
        x /= np.linalg.norm(x)
        R.append(np.stack([x, np.cross(z, x), z]))
    R = np.array(R)
    K = np.tile([[focal, 0, SIZE[0] / 2], [0, focal, SIZE[1] / 2], [0, 0, 1.0]], (C, 1, 1))
    return K, R, -np.einsum("cij,cj->ci", R, centers)


def svd_dlt(P, pixels, chunk=100_000):
    """Plain homogeneous DLT: per point, the right singular vector of its 2C x 4 system."""
    C, N, _ = pixels.shape
    out = np.empty((N, 3))
    for s in range(0, N, chunk):
        uv = pixels[:, s:s + chunk]
        rows = np.concatenate([uv[..., :1] * P[:, None, 2] - P[:, None, 0],
                               uv[..., 1:] * P[:, None, 2] - P[:, None, 1]], axis=0)
        A = np.moveaxis(rows, 0, 1)                               # (n, 2C, 4)
        ok = np.isfinite(A).all(axis=(1, 2))
        X = np.full((A.shape[0], 3), np.nan)
        _, _, Vt = np.linalg.svd(A[ok])
        X[ok] = Vt[:, -1, :3] / Vt[:, -1, 3:]
        out[s:s + chunk] = X
    return out


def cv2_pairs(P, pixels, T):
    """cv2.triangulatePoints per frame and camera pair, the pairs averaged (a user's loop)."""
    import cv2

    C = len(P)
    pix = pixels.reshape(C, T, J, 2)
    out = np.empty((T, J, 3))
    for f in range(T):
        acc = np.zeros((J, 3))
        for i in range(C):
            for j in range(i + 1, C):
                h = cv2.triangulatePoints(P[i], P[j], pix[i, f].T, pix[j, f].T)
                acc += (h[:3] / h[3]).T
        out[f] = acc / (C * (C - 1) / 2)
    return out.reshape(-1, 3)


def body_checked(poses):
    """Joints farther than 2 m from their frame's median joint dropped (as the session stage)."""
    poses = poses.copy()
    poses[far_joints(poses, 2.0)] = np.nan
    return poses


def timed(fn, repeat=2):
    best, result = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def scene(C, T, noise_px, seed):
    rng = np.random.default_rng(seed)
    K, R, t = ring_rig(C)
    X = rng.normal([0, 0, 1], [0.3, 0.3, 0.5], (T * J, 3))
    pixels, _ = project_points(X, K, R, t)
    noisy = pixels + rng.normal(0, noise_px, pixels.shape)
    outlier = rng.random(pixels.shape[:2]) < OUTLIER_RATE
    corrupted = noisy.copy()
    corrupted[outlier] = rng.uniform([0, 0], SIZE, (outlier.sum(), 2))
    return K, R, t, X, noisy, corrupted, outlier


def error_mm(points, X):
    e = np.linalg.norm(points.reshape(-1, 3) - X, axis=1)
    return 1000 * np.nanmean(e), 100 * np.isfinite(e).mean()


def bench_cameras(C, T, cv2_frames):
    methods = {  # name -> (data key, function(K, R, t, P, pixels, T) -> (N, 3))
        "epicap triangulate, robust (auto)": ("outliers", lambda K, R, t, P, px, T:
            triangulate(px, K, R, t).points3d),
        "robust (auto) + 2 m body-extent check": ("outliers", lambda K, R, t, P, px, T:
            body_checked(triangulate(px.reshape(len(K), T, J, 2), K, R, t).points3d)),
        "epicap triangulate, robust drop_worst": ("outliers", lambda K, R, t, P, px, T:
            triangulate(px, K, R, t, options=TriangulationOptions(method="drop_worst")).points3d),
        "epicap triangulate, robust + refine": ("outliers", lambda K, R, t, P, px, T:
            triangulate(px, K, R, t, options=TriangulationOptions(refine=True)).points3d),
        "epicap triangulate, no outlier search": ("outliers", lambda K, R, t, P, px, T:
            triangulate(px, K, R, t,
                        options=TriangulationOptions(outlier_threshold_px=None)).points3d),
        "triangulate_dlt (closed-form kernel)": ("outliers", lambda K, R, t, P, px, T:
            triangulate_dlt(P, px)),
        "plain numpy DLT (batched SVD)": ("outliers", lambda K, R, t, P, px, T: svd_dlt(P, px)),
        f"cv2.triangulatePoints, pairs loop ({cv2_frames} fr)": ("cv2", lambda K, R, t, P, px, T:
            cv2_pairs(P, px, T)),
        "triangulate_dlt, data without outliers": ("clean", lambda K, R, t, P, px, T:
            triangulate_dlt(P, px)),
        "oracle: true outlier views removed": ("oracle", lambda K, R, t, P, px, T:
            triangulate_dlt(P, px)),
    }
    rows = {name: {"fps": None, "mm": [], "valid": []} for name in methods}
    for k, noise in enumerate(NOISE_PX):
        K, R, t, X, clean, corrupted, outlier = scene(C, T, noise, seed=k)
        P = projection_matrices(K, R, t)
        oracle = np.where(outlier[..., None], np.nan, corrupted)
        data = {"outliers": (corrupted, T, X), "clean": (clean, T, X), "oracle": (oracle, T, X),
                "cv2": (corrupted[:, :cv2_frames * J], cv2_frames, X[:cv2_frames * J])}
        for name, (key, fn) in methods.items():
            px, frames, truth = data[key]
            if noise == 2.0:
                seconds, points = timed(lambda: fn(K, R, t, P, px, frames))
                rows[name]["fps"] = frames / seconds
            else:
                points = fn(K, R, t, P, px, frames)
            mm, valid = error_mm(points, truth)
            rows[name]["mm"].append(mm)
            rows[name]["valid"].append(valid)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=30_000)
    parser.add_argument("--cv2-frames", type=int, default=2_000)
    args = parser.parse_args()
    table = []
    for C in (4, 8):
        rows = bench_cameras(C, args.frames, min(args.cv2_frames, args.frames))
        for name, r in rows.items():
            table.append([C, name, None if r["fps"] is None else f"{r['fps']:,.0f}",
                          *[f"{m:.2f}" for m in r["mm"]], f"{min(r['valid']):.1f}"])
        base = rows["triangulate_dlt, data without outliers"]["mm"]
        robust = rows["epicap triangulate, robust (auto)"]["mm"]
        oracle = rows["oracle: true outlier views removed"]["mm"]
        table.append([C, "ratio robust / DLT without outliers", None,
                      *[f"{a / b:.2f}" for a, b in zip(robust, base)], None])
        table.append([C, "ratio robust / oracle", None,
                      *[f"{a / b:.2f}" for a, b in zip(robust, oracle)], None])
        checked = rows["robust (auto) + 2 m body-extent check"]["mm"]
        table.append([C, "ratio robust + extent check / DLT without outliers", None,
                      *[f"{a / b:.2f}" for a, b in zip(checked, base)], None])
    print(f"{args.frames} frames x {J} joints, {OUTLIER_RATE:.0%} outlier joints (uniform in the "
          f"image); frames/s on the 2 px data; MPJPE in mm over the joints triangulated\n")
    print(format_table(table, ["C", "method", "frames/s", "MPJPE 1 px", "MPJPE 2 px",
                               "MPJPE 5 px", "triangulated % (min)"]))


if __name__ == "__main__":
    main()
