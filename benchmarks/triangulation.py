"""Benchmark: batched robust triangulation vs plain DLTs and OpenCV, speed and accuracy.

Scene: C cameras (4 or 8) on a 4 m ring at 1.5 m height, f = 1000 px, 1920x1080, looking at a
cloud of "joints" around a standing body (normal, sd 0.3/0.3/0.5 m about (0, 0, 1)); T = 30,000
frames of J = 17 joints. 2D: exact projection + Gaussian noise (1, 2, 5 px per coordinate); 10%
of the (camera, frame, joint) detections replaced by a uniformly random pixel (outlier joints).

Methods, all timed in the same run on the 2 px data (frames/s = T / seconds; best of 2 runs):
- `triangulate` (epicap, robust: camera-pair hypotheses, or drop-worst), with and without refine;
- the same followed by the old session stage's body-extent check (`filtering.far_joints`, 2 m);
- `triangulate_poses` with the frame's body-extent test only (points are i.i.d. here: no bones,
  no time), whose implausible points get their views re-chosen or are dropped;
- `triangulate` with the outlier search off (plain confidence-weighted DLT, same code path);
- `triangulate_dlt` (the batched closed-form kernel alone, pixel projection matrices);
- a plain numpy DLT: the 2C x 4 system of every point solved by a batched SVD (H&Z 12.2);
- `cv2.triangulatePoints` as a user would call it: a loop over frames and camera pairs, pairs
  averaged (timed on 2,000 frames).
MPJPE (mm) against the truth over the joints each method triangulated, and the share it did.
"Oracle" triangulates with the outlier views removed using the true mask: the best any outlier
rejection can do.

Second part, realistic: `epicap.synthetic` scenes of real mocap (walk turning, dance_b, kick;
coco17 at 30 fps) seen by a 4-camera ring (4 m, f = 1000 px, 1280x720): noise 1, 2, 5 px, 5%
of joints missing, 10% outliers 20-200 px from the truth with confidence 0.05-0.5 (inliers
0.75-1). Methods: per-point `triangulate` with and without the confidences, `triangulate_poses`
(skeleton and time), the plain DLT on the same data without outliers, and the oracle.

Run: `python benchmarks/triangulation.py [--quick] [--frames T]`.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from epicap.console import format_table
from epicap.geometry.camera import project_points, projection_matrices
from epicap.geometry.filtering import far_joints
from epicap.geometry.pose_triangulation import triangulate_poses
from epicap.geometry.triangulation import TriangulationOptions, triangulate, triangulate_dlt
from epicap.joint_sets import get_joint_set
from epicap.synthetic import SceneOptions, load_clip, make_scene, ring_rig

J = 17
NOISE_PX = (1.0, 2.0, 5.0)
OUTLIER_RATE = 0.1
SIZE = (1920, 1080)


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
    cams = ring_rig(C, radius_m=4.0, height_m=1.5, focal_px=1000.0, image_size=SIZE)
    K, R, t = cams.K, cams.R, cams.t
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
        "triangulate_poses, frame extent only": ("outliers", lambda K, R, t, P, px, T:
            triangulate_poses(px.reshape(len(K), T, J, 2), K, R, t).points3d),
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


CLIPS = ("walk", "dance_b", "kick")


def mocap_scenes(noise_px, frames):
    """Per clip: (cameras, truth (T, J, 3), keypoints with outliers, without, outlier mask)."""
    cams = ring_rig(num_cameras=4, radius_m=4.0, height_m=1.6, focal_px=1000.0)
    out = []
    for k, name in enumerate(CLIPS):
        clip = load_clip(name, "coco17", fps=30.0, num_frames=frames,
                         turn_deg_per_s=40.0 if name == "walk" else 0.0)
        common = dict(noise_px=noise_px, missing_fraction=0.05, seed=k)
        dirty = make_scene(clip, cams, SceneOptions(outlier_fraction=0.1, **common))
        clean = make_scene(clip, cams, SceneOptions(outlier_fraction=0.0, **common))
        out.append((cams, dirty.poses3d, dirty.keypoints.keypoints.astype(np.float64),
                    clean.keypoints.keypoints.astype(np.float64), dirty.outlier))
    return out


def bench_mocap(frames):
    """Rows of the realistic part: name -> fps (2 px), MPJPE per noise, triangulated %."""
    bones = get_joint_set("coco17").bone_index
    methods = {
        "triangulate, per point": lambda c, kp, T: triangulate(
            kp[..., :2], c.K, c.R, c.t, c.dist, kp[..., 2]).points3d,
        "triangulate, per point, confidence ignored": lambda c, kp, T: triangulate(
            kp[..., :2], c.K, c.R, c.t, c.dist).points3d,
        "triangulate_poses (skeleton + time)": lambda c, kp, T: triangulate_poses(
            kp[..., :2], c.K, c.R, c.t, c.dist, kp[..., 2], bones=bones, fps=30.0).points3d,
        "triangulate_dlt, data without outliers": None,
        "oracle: true outlier views removed": None,
    }
    rows = {name: {"fps": None, "mm": [], "valid": []} for name in methods}
    for noise in NOISE_PX:
        errors = {name: [] for name in methods}
        seconds = dict.fromkeys(methods, 0.0)
        for cams, truth, kp, clean_kp, outlier in mocap_scenes(noise, frames):
            C = len(cams)
            P = projection_matrices(cams.K, cams.R, cams.t)
            oracle = kp[..., :2].copy()
            oracle[outlier] = np.nan
            for name, fn in methods.items():
                if name.startswith("triangulate_dlt"):
                    points = triangulate_dlt(P, clean_kp[..., :2].reshape(C, -1, 2))
                elif name.startswith("oracle"):
                    points = triangulate_dlt(P, oracle.reshape(C, -1, 2))
                elif noise == 2.0:
                    s, points = timed(lambda: fn(cams, kp, frames))
                    seconds[name] += s
                else:
                    points = fn(cams, kp, frames)
                errors[name].append(np.linalg.norm(points.reshape(-1, 3) - truth.reshape(-1, 3),
                                                   axis=1))
        for name in methods:
            e = np.concatenate(errors[name])
            rows[name]["mm"].append(1000 * np.nanmean(e))
            rows[name]["valid"].append(100 * np.isfinite(e).mean())
            if seconds[name]:
                rows[name]["fps"] = len(CLIPS) * frames / seconds[name]
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=None,
                        help="frames of the uniform scene (default 30,000; 3,000 with --quick)")
    parser.add_argument("--cv2-frames", type=int, default=2_000)
    parser.add_argument("--mocap-frames", type=int, default=None,
                        help="frames per mocap clip (default 1,800; 300 with --quick)")
    parser.add_argument("--quick", action="store_true", help="a smaller run (about a minute)")
    args = parser.parse_args()
    if args.frames is None:
        args.frames = 3_000 if args.quick else 30_000
    if args.mocap_frames is None:
        args.mocap_frames = 300 if args.quick else 1_800
    if args.quick:
        args.cv2_frames = min(args.cv2_frames, 200)
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
        poses = rows["triangulate_poses, frame extent only"]["mm"]
        table.append([C, "ratio triangulate_poses / DLT without outliers", None,
                      *[f"{a / b:.2f}" for a, b in zip(poses, base)], None])
        table.append([C, "ratio triangulate_poses / oracle", None,
                      *[f"{a / b:.2f}" for a, b in zip(poses, oracle)], None])
        table.append([C, "ratio oracle / DLT without outliers", None,
                      *[f"{a / b:.2f}" for a, b in zip(oracle, base)], None])
    print(f"{args.frames} frames x {J} joints, {OUTLIER_RATE:.0%} outlier joints (uniform in the "
          f"image); frames/s on the 2 px data; MPJPE in mm over the joints triangulated\n")
    print(format_table(table, ["C", "method", "frames/s", "MPJPE 1 px", "MPJPE 2 px",
                               "MPJPE 5 px", "triangulated % (min)"]))

    rows = bench_mocap(args.mocap_frames)
    base = rows["triangulate_dlt, data without outliers"]["mm"]
    oracle = rows["oracle: true outlier views removed"]["mm"]
    table = [[name, None if r["fps"] is None else f"{r['fps']:,.0f}",
              *[f"{m:.2f}" for m in r["mm"]], f"{min(r['valid']):.1f}"]
             for name, r in rows.items()]
    for name in ("triangulate, per point", "triangulate_poses (skeleton + time)"):
        table.append([f"ratio {name} / DLT without outliers", None,
                      *[f"{a / b:.2f}" for a, b in zip(rows[name]["mm"], base)], None])
        table.append([f"ratio {name} / oracle", None,
                      *[f"{a / b:.2f}" for a, b in zip(rows[name]["mm"], oracle)], None])
    table.append(["ratio oracle / DLT without outliers", None,
                  *[f"{a / b:.2f}" for a, b in zip(oracle, base)], None])
    print(f"\nMocap scenes ({', '.join(CLIPS)}; {args.mocap_frames} frames each, coco17, 4 "
          "cameras): 10% outliers 20-200 px with low confidence, 5% missing; frames/s on the "
          "2 px data\n")
    print(format_table(table, ["method", "frames/s", "MPJPE 1 px", "MPJPE 2 px", "MPJPE 5 px",
                               "triangulated % (min)"]))


if __name__ == "__main__":
    main()
