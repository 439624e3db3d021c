"""Benchmark of calibration from the people in view: synthetic sessions and the real Pose2Sim demo.

Synthetic rows: real mocap clips (DeepMimic: walk, run, jump, dance, crawl, get-up, ...) seen by a
ring of 4 or 8 cameras (jittered poses and heights), Gaussian noise 1-5 px, optionally a constant
per-camera-and-joint bias, 10% outlier joints, 10% missing, each camera losing the subject for
10% of the frames. Methods: EpipolarPose's per-frame estimate, pooled pairs only, full epicap.

Columns: rot = mean relative rotation error over camera pairs (deg, gauge-free); centre = camera
centre error after a similarity alignment (Umeyama, on the centres), % of the mean baseline;
focal = mean |focal error| % when unknown; scale = error of the metric scale, % (the subject's
height given exactly; + when the recovered world is too large); ratio = MPJPE of triangulation with the recovered
cameras / MPJPE with the true cameras (same 2D, same triangulator, both after one similarity
alignment over the whole sequence); s = runtime.

Walk and run circle (about 2 m radius) so the subject stays in the ring, as in a capture
session; "run/straight" is the DeepMimic run straight through the ring (in view for 60 of the
300 frames: few data, a noisier result).

Real rows: the Pose2Sim demo (OpenPose BODY_25B, 4 cameras, Qualisys calibration as truth),
intrinsics given or not: per-camera rotation error (after the best rotation alignment) and
centre error (cm, after similarity alignment), scale error % with the participant's height from
the demo's Config.toml (1.72 m), up = the angle between the recovered world's Z and the lab's
vertical (Qualisys Z, after the similarity alignment), and where the floor came from. The
"refine" row starts the adjustment from the Qualisys
calibration itself: how far these 2D joints pull the true rig, a floor for any method fitting
them. A last table: the scale error over clips and joint sets.

Refine rows (issue 14): `calibrate --refine` started from the true rig with every camera turned
1, 2 or 4 degrees (random axis, seed 0) and moved 5 or 10 cm, on synthetic walks (4 cameras,
2 px, with and without a 5 px detector bias) and on the real demo, beside the solve from nothing
on the same 2D; the target is a mean relative rotation no worse than the solve from nothing's
+ 0.05 deg. "kept" says which rig `--refine` returned (its own or the solve from nothing's).

    python benchmarks/calibration.py                # the full table (about 30 minutes)
    python benchmarks/calibration.py --quick        # a few rows and the real demo
    python benchmarks/calibration.py --only refine  # the refine rows alone (about 15 minutes)
    python benchmarks/calibration.py --only real    # the real demo rows alone (about 1 minute)
    python benchmarks/calibration.py --only sweep --rigs 20 --intrinsics both  # random rigs
        (calibration_sweep.py: its docstring says what is drawn and measured; 200 frames)
    python benchmarks/calibration.py --speed        # only the speed table, baseline and current
"""
from __future__ import annotations

import argparse
import contextlib
import functools
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from epicap.calibration_free.pipeline import CalibrationOptions, calibrate  # noqa: E402
from epicap.console import format_table  # noqa: E402
from epicap.errors import InputError  # noqa: E402
from epicap.geometry.alignment import umeyama  # noqa: E402
from epicap.geometry.rig_metrics import compare_rigs  # noqa: E402
from epicap.geometry.triangulation import triangulate  # noqa: E402
from epicap.session import Cameras  # noqa: E402

METHODS = ("epipolarpose", "pooled", "epicap")
# the demo participant's height, Pose2Sim 0.8.4 S00_Demo_BatchSession/Config.toml
PARTICIPANT_HEIGHT_M = 1.72
CALIBRATE_CPU_S: list[float] = []  # CPU seconds of each calibrate() call timed here


def camera_errors(truth: Cameras, est: Cameras) -> dict:
    """Rotation (per camera, deg, after the best common rotation) and centre errors (metres);
    "up": the angle (deg) between the world's Z axes once the centres are aligned (both Z up)."""
    t = truth.select(est.names)
    cmp = compare_rigs(t.R, t.t, est.R, est.t)
    return {"rot_cam": cmp.rotation_deg, "rot_rel": cmp.relative_rotation_deg,
            "centre": cmp.centre_error_m, "baseline": cmp.baseline_m,
            "scale": 100 * (1 / cmp.scale - 1), "up": cmp.up_deg}


def joint_aligned_errors(truth: Cameras, est: Cameras, X_est: np.ndarray,
                         X_true: np.ndarray) -> dict:
    """`camera_errors`' relative rotations, with the centres (metres) and scale taken after the
    similarity that aligns the recovered joints X_est (T, J, 3) onto the true ones X_true: defined
    for any layout (two cameras, cameras on one line), where a fit of the centres is not."""
    from epicap.geometry.rig_metrics import rotation_angle_deg

    t = truth.select(est.names)
    P, G = X_est.reshape(-1, 3), X_true.reshape(-1, 3)
    ok = np.isfinite(P).all(1) & np.isfinite(G).all(1)
    s, Q, p = umeyama(P[ok], G[ok])
    pairs = [(a, b) for a in range(len(t)) for b in range(a + 1, len(t))]
    rel = rotation_angle_deg(np.stack([(t.R[b] @ t.R[a].T).T @ est.R[b] @ est.R[a].T
                                       for a, b in pairs]))
    centre = np.linalg.norm(s * est.centers @ Q.T + p - t.centers, axis=1)
    baseline = float(np.mean([np.linalg.norm(t.centers[a] - t.centers[b]) for a, b in pairs]))
    return {"rot_rel": rel, "centre": centre, "baseline": baseline, "scale": 100 * (1 / s - 1)}


def mpjpe_aligned(points: np.ndarray, truth: np.ndarray) -> float:
    """MPJPE (metres) after one similarity alignment of all frames' joints onto the truth."""
    P, G = points.reshape(-1, 3), truth.reshape(-1, 3)
    ok = np.isfinite(P).all(1) & np.isfinite(G).all(1)
    s, Q, p = umeyama(P[ok], G[ok])
    return float(np.linalg.norm(s * P[ok] @ Q.T + p - G[ok], axis=1).mean())


def triangulated(keypoints, cams: Cameras) -> np.ndarray:
    kp = keypoints.select_cameras(cams.names)
    return triangulate(kp.points, cams.K, cams.R, cams.t, cams.dist, kp.confidence).points3d


# radial distortion (k1, k2) of the four Human3.6M cameras as published for subject S1
H36M_K1_K2 = np.array([[-0.2071, 0.2479], [-0.1942, 0.2404], [-0.2083, 0.2550],
                       [-0.1982, 0.2185]])

# clips that travel on (looping) circle with a radius of about 2 m, as a subject stays in a
# capture volume; "run/straight" runs through the ring instead (in view for 60 of 300 frames)
TURN_DEG_PER_S = {"walk": 28.0, "run": 100.0}


def synthetic_scene(clip_name, C, noise, bias, frames=300, seed=0, joint_set="coco17",
                    off_centre=False):
    """(clip, true cameras, scene) of a synthetic session: a mocap clip seen by a ring of C.

    off_centre: each camera's principal point moved up to 3% of the image size per axis and
    radial distortion k1 drawn in -0.35..0.1 (wide-angle and action cameras), uniformly (seed).
    off_centre="lab": a lab-like rig instead (issue 12): 4 cameras in the corners of the room
    (4 m from the middle, 2.5 m high), 1000x1000 px, focal 1145 px, principal points 9-20 px off
    the centre per axis (random sign), no distortion. "lab lens": that rig with the published
    Human3.6M (S1) lenses' radial distortion, k1 -0.19..-0.21 and k2 +0.22..+0.26.
    """
    from epicap.synthetic import SceneOptions, load_clip, make_scene, ring_rig

    name, _, variant = clip_name.partition("/")
    turn = 0.0 if variant == "straight" else TURN_DEG_PER_S.get(name, 0.0)
    clip = load_clip(name, joint_set, fps=30, num_frames=frames, turn_deg_per_s=turn)
    heights = np.where(np.arange(C) % 2 == 0, 1.3, 2.3)
    cams = ring_rig(C, radius_m=4.5, height_m=heights, focal_px=1100.0, image_size=(1280, 720),
                    jitter_deg=3.0, jitter_m=0.3, seed=seed, look_at=(0, 0, 0.9))
    if off_centre in ("lab", "lab lens"):
        cams = ring_rig(C, radius_m=4.0, height_m=2.5, focal_px=1145.0, image_size=(1000, 1000),
                        jitter_deg=3.0, jitter_m=0.3, seed=seed, look_at=(0, 0, 0.9),
                        azimuth0_deg=45.0)
        rng = np.random.default_rng(50 + seed)
        cams.K[:, :2, 2] += rng.uniform(9, 20, (C, 2)) * rng.choice([-1, 1], (C, 2))
        if off_centre == "lab lens":
            cams.dist[:, :2] = np.resize(H36M_K1_K2, (C, 2))
    elif off_centre:
        rng = np.random.default_rng(1000 + seed)
        cams.K[:, :2, 2] += rng.uniform(-0.03, 0.03, (C, 2)) * cams.image_size
        cams.dist[:, 0] = rng.uniform(-0.35, 0.1, C)
    scene = make_scene(clip, cams, SceneOptions(noise_px=noise, bias_px=bias,
                                                outlier_fraction=0.1, missing_fraction=0.1,
                                                lose_fraction=0.1, seed=seed))
    return clip, cams, scene


def synthetic_row(clip_name, C, noise, bias, method, focal_known=True, shared=False,
                  frames=300, seed=0, joint_set="coco17", off_centre=False, **options):
    clip, cams, scene = synthetic_scene(clip_name, C, noise, bias, frames, seed, joint_set,
                                        off_centre)
    intr = Cameras(cams.names, cams.image_size, cams.K, cams.dist) if focal_known else None
    options = CalibrationOptions(method=method, shared_focal=shared,
                                 subject_height_m=clip.subject_height_m, **options)
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        return scored_calibration(cams, scene, intr, options)
    except InputError as e:
        CALIBRATE_CPU_S.append(time.process_time() - c0)
        return {"fail": str(e)[:60], "s": time.perf_counter() - t0}


def scored_calibration(cams: Cameras, scene, intrinsics: Cameras | None, options,
                       align_joints: bool = False) -> dict:
    """Calibrate `scene.keypoints` (intrinsics given, or None: unknown) and score the result
    against the true `cams`: the columns of the module doc (rot, centre, focal, scale, ratio, s)
    plus "cams" (calibrated / all), "excluded" (the result's reasons, "; "-joined) and "result".
    align_joints: centres and scale after the joints' similarity (`joint_aligned_errors`)
    instead of the centres' own. Exceptions of `calibrate` propagate (the caller decides what a
    failure is)."""
    C = len(cams)
    t0, c0 = time.perf_counter(), time.process_time()
    res = calibrate(scene.keypoints, intrinsics, options)
    elapsed = time.perf_counter() - t0
    CALIBRATE_CPU_S.append(time.process_time() - c0)
    est = res.cameras
    focal = (None if intrinsics is not None else float(np.mean(np.abs(
        est.K[:, 0, 0] / cams.select(est.names).K[:, 0, 0] - 1)) * 100))
    X_true_cams = triangulated(scene.keypoints, cams)
    X_est = triangulated(scene.keypoints, est)
    err = (joint_aligned_errors(cams, est, X_est, scene.poses3d) if align_joints
           else camera_errors(cams, est))
    mpjpe_est, mpjpe_true = (mpjpe_aligned(X, scene.poses3d) for X in (X_est, X_true_cams))
    true = cams.select(est.names)
    return {"cams": f"{len(est)}/{C}", "rot": float(err["rot_rel"].mean()),
            "pp": float(np.linalg.norm(est.K[:, :2, 2] - true.K[:, :2, 2], axis=1).mean()),
            "k1": float(np.abs(est.dist[:, 0] - true.dist[:, 0]).mean()), "result": res,
            "centre": float(100 * err["centre"].mean() / err["baseline"]), "focal": focal,
            "scale": err["scale"], "ratio": mpjpe_est / mpjpe_true, "s": elapsed,
            "mpjpe_mm": 1000 * mpjpe_est, "mpjpe_true_mm": 1000 * mpjpe_true,
            "excluded": "; ".join(f"{n} {r}" for n, r in res.excluded.items()),
            "result": res}


@functools.lru_cache(maxsize=1)
def demo_data():
    """(Qualisys cameras, OpenPose BODY_25B Keypoints2D) of the Pose2Sim demo trial."""
    from epicap.assets import fetch_wheel, list_members, read_member
    from epicap.keypoints.openpose import read_openpose
    from epicap.session.qualisys import read_qualisys

    truth = read_qualisys(text=read_member(
        fetch_wheel("pose2sim-0.10.49"),
        "Pose2Sim/Demo_SinglePerson/calibration/Calib.qca.txt").decode())
    wheel = fetch_wheel("pose2sim-0.8.4")
    prefix = ("Pose2Sim/S00_Demo_BatchSession/S00_P00_SingleParticipant/"
              "S00_P00_T01_BalancingTrial/pose/")
    with tempfile.TemporaryDirectory() as tmp:
        for m in list_members(wheel, prefix):
            if m.endswith(".json"):
                out = Path(tmp, m[len(prefix):])
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(read_member(wheel, m))
        kp = read_openpose([Path(tmp, f"cam0{i}_json") for i in range(1, 5)],
                           image_size=(1088, 1920), fps=60)
    return truth, kp


def real_demo(focal_known=True, shared=False, method="epicap", **options):
    """The Pose2Sim demo: OpenPose BODY_25B 2D, Qualisys calibration as the truth.

    method "refine": the adjustment started from the Qualisys calibration itself (how far the
    2D pulls the truth: the floor of any method fitting these joints).
    """
    truth, kp = demo_data()
    intr = Cameras(truth.names, truth.image_size, truth.K, truth.dist) if focal_known else None
    t0, c0 = time.perf_counter(), time.process_time()
    if method == "refine":
        res = calibrate(kp, None, CalibrationOptions(subject_height_m=PARTICIPANT_HEIGHT_M),
                        initial=truth)
    else:
        res = calibrate(kp, intr, CalibrationOptions(method=method, shared_focal=shared,
                                                     subject_height_m=PARTICIPANT_HEIGHT_M,
                                                     **options))
    elapsed = time.perf_counter() - t0
    CALIBRATE_CPU_S.append(time.process_time() - c0)
    err = camera_errors(truth, res.cameras)
    focal = None if focal_known else 100 * (res.cameras.K[:, 0, 0] / truth.K[:, 0, 0] - 1)
    return err, focal, elapsed, res


# `calibrate --refine` from perturbed starts (issue 14): every camera of the true rig turned by
# each angle about a random axis through its centre and its centre moved by each distance
REFINE_STARTS = tuple((deg, m) for deg in (1.0, 2.0, 4.0) for m in (0.05, 0.10))


def perturb_rig(cams: Cameras, turn_deg: float, move_m: float, seed: int = 0) -> Cameras:
    """`cams` with every camera turned turn_deg (random axis through its centre) and its centre
    moved move_m (random direction); the same directions for every size with one seed."""
    from epicap.geometry.camera import rotation_from_rodrigues

    rng = np.random.default_rng(seed)
    R, centres = cams.R.copy(), cams.centers.copy()
    for c in range(len(cams)):
        axis, step = rng.normal(size=3), rng.normal(size=3)
        R[c] = rotation_from_rodrigues(np.radians(turn_deg) * axis / np.linalg.norm(axis)) @ R[c]
        centres[c] += move_m * step / np.linalg.norm(step)
    return Cameras(cams.names, cams.image_size, cams.K, cams.dist, R,
                   -np.einsum("cij,cj->ci", R, centres))


def refined_alone(keypoints, options, start: Cameras):
    """The CalibrationResult of `--refine` without the solve from nothing beside it (diagnostic:
    what the loose-to-tight adjustment reaches by itself)."""
    import epicap.calibration_free.refine as refine_module

    keep = refine_module.keep_better
    refine_module.keep_better = lambda refined, *args: refined
    try:
        return calibrate(keypoints, None, options, initial=start)
    finally:
        refine_module.keep_better = keep


def refine_rows(label, truth: Cameras, keypoints, options, seed=0, alone=False):
    """Table rows: the solve from nothing (intrinsics known), then `--refine` from each start.

    Columns: data, start, start's mean relative rotation error (deg), the result's, its
    difference from the solve from nothing's (target <= +0.05), the rig kept, centre error after
    a similarity (cm), centre distance from the truth without any alignment (cm: the start's
    frame is kept, so this is bounded below by how far the perturbed start's frame lies), s;
    with `alone`, also the mean relative rotation of the refinement by itself (`refined_alone`).
    """
    fmt = lambda v, p=2: None if v is None else round(float(v), p)  # noqa: E731
    intr = Cameras(truth.names, truth.image_size, truth.K, truth.dist)
    t0 = time.perf_counter()
    none = calibrate(keypoints, intr, options)
    base = float(camera_errors(truth, none.cameras)["rot_rel"].mean())
    rows = [[label, "none", None, fmt(base, 3), None, "from nothing",
             fmt(100 * camera_errors(truth, none.cameras)["centre"].mean()), None,
             fmt(time.perf_counter() - t0, 1), None]]
    print(format_table(rows[-1:], REFINE_HEADERS), file=sys.stderr)
    for deg, move in REFINE_STARTS:
        start = perturb_rig(truth, deg, move, seed)
        t0 = time.perf_counter()
        res = calibrate(keypoints, None, options, initial=start)
        err = camera_errors(truth, res.cameras)
        rot = float(err["rot_rel"].mean())
        off = np.linalg.norm(res.cameras.centers - truth.select(res.cameras.names).centers, axis=1)
        rows.append([label, f"{deg:g} deg, {100 * move:g} cm",
                     fmt(camera_errors(truth, start)["rot_rel"].mean(), 3), fmt(rot, 3),
                     f"{rot - base:+.3f}", res.method, fmt(100 * err["centre"].mean()),
                     fmt(100 * off.mean()), fmt(time.perf_counter() - t0, 1),
                     fmt(camera_errors(truth, refined_alone(keypoints, options, start).cameras)[
                         "rot_rel"].mean(), 3) if alone else None])
        print(format_table(rows[-1:], REFINE_HEADERS), file=sys.stderr)
    return rows


def refine_section(quick=False, frames=300, alone=False) -> None:
    """Print the `--refine` table: synthetic sessions and the real demo, perturbed starts."""
    rows = []
    for clip, bias in (("walk", 0.0),) if quick else (("walk", 0.0), ("walk", 5.0)):
        c, cams, scene = synthetic_scene(clip, 4, 2.0, bias, frames)
        rows += refine_rows(f"{clip} 4 cams 2 px" + (f" bias {bias:g} px" if bias else ""),
                            cams, scene.keypoints,
                            CalibrationOptions(subject_height_m=c.subject_height_m),
                            alone=alone)
    truth, kp = demo_data()
    rows += refine_rows("Pose2Sim demo (OpenPose)", truth, kp,
                        CalibrationOptions(subject_height_m=PARTICIPANT_HEIGHT_M), alone=alone)
    print("\n## calibrate --refine from perturbed starts (intrinsics known, seed 0)\n")
    print(format_table(rows, REFINE_HEADERS))


# main's intrinsics: principal point at the image centre, no distortion, no bootstrap
CENTRED = dict(principal_point=False, radial=0, bootstrap=0)


def intrinsics_section(quick=False, frames=300) -> None:
    """Print the unknown-intrinsics table (issue 12, item 2): principal point and k1 assumed
    (centred, zero: "before") or estimated ("after", the defaults), on synthetic rigs with
    centred principal points and no distortion, and with off-centre ones (up to 3% of the image)
    and k1 in -0.35..0.1, 2 px noise; a lab-like rig (`synthetic_scene`'s "lab", 1 px noise)
    and the same with Human3.6M's lenses ("lab lens": k1 and k2), where k1 alone ("k1 only",
    `--radial 1`) is measured too; then the real demo with unknown intrinsics."""
    fmt = lambda v, p=2: None if v is None else round(float(v), p)  # noqa: E731
    seeds = (0,) if quick else (0, 1, 2)
    cases = [(clip, C) for clip in ("walk", "dance_a") for C in (4, 8)]
    rows, summary = [], {}
    for off in (False, True, "lab", "lab lens"):
        lab = off in ("lab", "lab lens")
        labels = (("before", CENTRED), ("k1 only", {"radial": 1}), ("after", {})) if lab else (
            ("before", CENTRED), ("after", {}))
        for clip, C in ([("walk", 4)] if lab else cases[:1] if quick else cases):
            for seed in (range(5) if lab and not quick else seeds):
                for label, opts in labels:
                    r = synthetic_row(clip, C, 1.0 if lab else 2.0, 0.0, "epicap",
                                      focal_known=False,
                                      frames=frames, seed=seed, off_centre=off, **opts)
                    check = getattr(r.get("result"), "intrinsics_check", None)
                    k2 = getattr(r.get("result"), "k2_check", None)
                    rows.append([RIG_NAMES[off], clip, C, seed,
                                 label, fmt(r.get("rot"), 3), fmt(r.get("focal")),
                                 fmt(r.get("pp"), 1), fmt(r.get("k1"), 3),
                                 fmt(r.get("ratio"), 3), fmt(r["s"], 1),
                                 ("" if check is None else ("kept" if check.kept else "rejected")
                                  + f" {check.free_px:.2f}/{check.fixed_px:.2f}, z "
                                  f"{check.sign_z:.1f}")
                                 + ("" if k2 is None else f"; k2 {'kept' if k2.kept else 'no'}"
                                    f" {k2.free_px:.2f}/{k2.fixed_px:.2f}, z {k2.sign_z:.1f}")])
                    summary.setdefault((off, label), []).append(
                        [r.get(k, np.nan) for k in ("rot", "focal", "pp", "k1", "ratio")])
                    print(format_table(rows[-1:], INTRINSICS_HEADERS), file=sys.stderr)
    for label, opts in (("before", CENTRED), ("after", {})):
        err, focal, elapsed, res = real_demo(False, **opts)
        truth = demo_data()[0].select(res.cameras.names)
        check = res.intrinsics_check
        rows.append(["real Pose2Sim demo", "OpenPose", 4, None, label,
                     fmt(err["rot_rel"].mean(), 3), fmt(np.abs(focal).mean()),
                     fmt(np.linalg.norm(res.cameras.K[:, :2, 2] - truth.K[:, :2, 2],
                                        axis=1).mean(), 1),
                     fmt(np.abs(res.cameras.dist[:, 0] - truth.dist[:, 0]).mean(), 3), None,
                     fmt(elapsed, 1), "" if check is None else
                     ("kept" if check.kept else "rejected")
                     + f" {check.free_px:.2f}/{check.fixed_px:.2f}, z {check.sign_z:.1f}"])
        print(format_table(rows[-1:], INTRINSICS_HEADERS), file=sys.stderr)
    print("\n## Unknown intrinsics: principal point and distortion assumed (before), "
          "estimated with k1 only (lab rigs), or estimated with k2 where held-out joints keep "
          "it (after, the default); 2 px noise, lab rigs 1 px\n")
    print(format_table(rows, INTRINSICS_HEADERS))
    means = [[RIG_NAMES[off], label,
              *(fmt(v, 3) for v in np.nanmean(np.array(vals, dtype=float), axis=0))]
             for (off, label), vals in summary.items()]
    print("\n## Means over the synthetic rows above\n")
    print(format_table(means, ["rig", "intrinsics", "rot deg", "focal %", "pp px", "k1 err",
                               "MPJPE ratio"]))


RIG_NAMES = {False: "centred, k1 = 0", True: "off-centre, k1", "lab": "lab corners, 1 px",
             "lab lens": "lab corners, H36M k1 k2, 1 px"}
INTRINSICS_HEADERS = ["rig", "clip", "C", "seed", "lens model", "rot deg", "focal %", "pp err px",
                      "k1 err", "MPJPE ratio", "s",
                      "check (held-out px free/fixed, sign z; k2: with/without)"]

REFINE_HEADERS = ["data", "start", "start rel rot deg", "rel rot deg", "vs from nothing",
                  "kept", "centre cm (aligned)", "centre cm (no alignment)", "s",
                  "refine alone rel rot deg"]


def real_section() -> None:
    """The Pose2Sim demo rows (module doc): intrinsics known, per camera or shared, by method."""
    fmt = lambda v, p=2: None if v is None else round(float(v), p)  # noqa: E731
    print("\n## Real: Pose2Sim demo (OpenPose BODY_25B, Qualisys calibration as truth)\n")
    real_rows = []
    cases = [("known", "epipolarpose"), ("known", "pooled"), ("known", "epicap"),
             ("per-camera", "epicap"), ("shared", "epicap"), ("known", "refine")]
    for focal_mode, method in cases:
        err, focal, elapsed, res = real_demo(focal_mode == "known", focal_mode == "shared",
                                             method)
        real_rows.append([focal_mode, method, fmt(err["rot_rel"].mean(), 3),
                          " ".join(f"{v:.2f}" for v in err["rot_cam"]),
                          " ".join(f"{100 * v:.1f}" for v in err["centre"]),
                          None if focal is None else " ".join(f"{v:+.1f}" for v in focal),
                          fmt(err["scale"]), fmt(err["up"], 1),
                          res.world.floor_from, fmt(res.rms_px), fmt(elapsed, 1)])
    print(format_table(real_rows, ["focal", "method", "rel rot deg (mean)",
                                   "rot deg per camera", "centre cm per camera",
                                   "focal err %", "scale %", "up deg", "floor from", "rms px",
                                   "s"]))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few rows only")
    parser.add_argument("--frames", type=int,
                        help="frames per synthetic session (default 300; the sweep's 200)")
    parser.add_argument("--speed-frames", type=int, default=10_000,
                        help="frames of the speed rows (default 10,000)")
    parser.add_argument("--only", choices=("real", "refine", "sweep", "intrinsics"),
                        help="run one section alone: real (the Pose2Sim demo rows), refine "
                             "(calibrate --refine from perturbed "
                             "starts beside the solve from nothing), sweep (random realistic "
                             "rigs, calibration_sweep.py) or intrinsics (principal point and k1 "
                             "assumed or estimated, synthetic and real)")
    parser.add_argument("--rigs", type=int, default=100, help="sweep: how many seeded rigs")
    parser.add_argument("--seed0", type=int, default=0, help="sweep: the first rig's seed")
    parser.add_argument("--intrinsics", default="known",
                        choices=("known", "unknown", "ideal", "same", "focal", "k2",
                                 "k2 as k1", "lens", "both", "all"),
                        help="sweep: intrinsics given (known), estimated (unknown), estimated "
                             "on the same rigs with ideal lenses (ideal: principal point "
                             "centred, k1 = 0), and with one camera model per rig too (same); "
                             "focal: the true focal lengths given, centred principal point, no "
                             "distortion; k2: unknown, on rigs whose lenses have k2 too; "
                             "'k2 as k1': those rigs estimated with k1 alone; lens = k2 + "
                             "'k2 as k1'; both = known + unknown; all = the first five")
    parser.add_argument("--jsonl", help="sweep: append every rig's row to this file")
    parser.add_argument("--refine-alone", action="store_true",
                        help="refine rows: also what the refinement reaches without the solve "
                             "from nothing beside it (twice the time)")
    parser.add_argument("--speed", action="store_true",
                        help="only the speed table (baseline and current, same run)")
    args = parser.parse_args(argv)
    sweep_frames, args.frames = args.frames, args.frames or 300
    if args.speed:
        speed_table(args.speed_frames)
        return 0
    if args.only == "sweep":
        from calibration_sweep import run_sweep

        modes = {"both": ("known", "unknown"), "lens": ("k2", "k2 as k1"),
                 "all": ("known", "unknown", "ideal", "same", "focal")}.get(
            args.intrinsics, (args.intrinsics,))
        run_sweep(args.rigs, modes, sweep_frames or 200, args.seed0,
                  args.jsonl)
        return 0
    if args.only == "real":
        real_section()
        return 0
    if args.only == "refine":
        refine_section(args.quick, args.frames, args.refine_alone)
        return 0
    if args.only == "intrinsics":
        intrinsics_section(args.quick, args.frames)
        return 0

    if args.quick:
        grid = [("walk", 4, 2.0, 0.0), ("crawl", 4, 2.0, 0.0), ("walk", 4, 2.0, 5.0)]
        focal_rows = [("walk", 4, 2.0, 0.0)]
    else:
        grid = [(c, 4, 2.0, 0.0) for c in ("walk", "run", "run/straight", "jump", "dance_a",
                                            "kick", "cartwheel", "crawl", "getup_facedown",
                                            "getup_faceup")]
        grid += [("walk", 4, 1.0, 0.0), ("walk", 4, 5.0, 0.0), ("crawl", 4, 5.0, 0.0)]
        grid += [(c, 4, 2.0, b) for c in ("walk", "crawl", "getup_facedown") for b in (5.0, 10.0)]
        grid += [(c, 8, n, b) for c in ("walk", "crawl", "getup_faceup") for n, b in
                 ((2.0, 0.0), (2.0, 5.0), (5.0, 0.0))]
        focal_rows = [(c, C, 2.0, 0.0) for c in ("walk", "dance_a", "crawl") for C in (4, 8)]

    rows = []
    fmt = lambda v, p=2: None if v is None else round(float(v), p)  # noqa: E731
    for clip, C, noise, bias in grid:
        for method in METHODS:
            r = synthetic_row(clip, C, noise, bias, method, frames=args.frames)
            rows.append([clip, C, noise, bias, "known", method, r.get("cams"), fmt(r.get("rot"), 3),
                         fmt(r.get("centre")), None, fmt(r.get("scale")),
                         fmt(r.get("ratio"), 3), fmt(r["s"], 1),
                         r.get("fail") or r.get("excluded") or ""])
            print(format_table([rows[-1]], HEADERS), file=sys.stderr)
    for clip, C, noise, bias in focal_rows:
        for shared in (False, True):
            r = synthetic_row(clip, C, noise, bias, "epicap", focal_known=False, shared=shared,
                              frames=args.frames)
            rows.append([clip, C, noise, bias, "shared" if shared else "per-camera", "epicap",
                         r.get("cams"), fmt(r.get("rot"), 3), fmt(r.get("centre")),
                         fmt(r.get("focal")), fmt(r.get("scale")), fmt(r.get("ratio"), 3),
                         fmt(r["s"], 1),
                         r.get("fail") or r.get("excluded") or ""])
            print(format_table([rows[-1]], HEADERS), file=sys.stderr)
    print("## Synthetic (DeepMimic mocap, ring rigs; 10% outliers, 10% missing, 10% lost)\n")
    print(format_table(rows, HEADERS, floatfmt=".4g"))

    real_section()

    refine_section(args.quick, args.frames, args.refine_alone)

    print("\n## Metric scale (subject height given exactly; 4 cams, 2 px, intrinsics known)\n")
    clips = ("walk", "crawl") if args.quick else ("walk", "run", "jump", "dance_a", "kick",
                                                  "cartwheel", "crawl", "getup_facedown",
                                                  "getup_faceup")
    scale_rows = []
    for joint_set in ("coco17", "body25b", "mediapipe33"):
        errors = [synthetic_row(c, 4, 2.0, 0.0, "epicap", frames=args.frames,
                                joint_set=joint_set).get("scale", np.nan) for c in clips]
        scale_rows.append([joint_set] + [fmt(e) for e in errors]
                          + [fmt(np.nanmax(np.abs(errors)))])
    print(format_table(scale_rows, ["joint set", *(f"{c} %" for c in clips), "max abs err %"]))

    speed_table(args.speed_frames)
    return 0


@contextlib.contextmanager
def baseline_solver():
    """The calibration as it was before the speed work, for the speed table's baseline rows:
    scipy's trust-region least squares with LSMR in every bundle adjustment, and the focal
    search on 100 frames, its grid too."""
    import dataclasses

    import epicap.calibration_free.focal_choice as focal_choice
    import epicap.calibration_free.pipeline as pipeline

    adjust, search = pipeline.bundle_adjust, focal_choice.search_focal

    def lsmr(*args, **kwargs):
        args = list(args)
        if len(args) > 8:
            args[8] = dataclasses.replace(args[8], solver="lsmr")
        else:
            kwargs["options"] = dataclasses.replace(
                kwargs.get("options", pipeline.BundleAdjustmentOptions()), solver="lsmr")
        return adjust(*args, **kwargs)

    def full_grid(*args, coarse=None, **kwargs):
        return search(*args, **kwargs)

    frames = focal_choice.FOCAL_FRAMES
    pipeline.bundle_adjust = focal_choice.bundle_adjust = lsmr
    focal_choice.search_focal = full_grid
    focal_choice.FOCAL_FRAMES = 100
    try:
        yield
    finally:
        pipeline.bundle_adjust = focal_choice.bundle_adjust = adjust
        focal_choice.search_focal = search
        focal_choice.FOCAL_FRAMES = frames


def speed_table(speed_frames: int = 10_000) -> None:
    """Runtime of calibrate before ("baseline", `baseline_solver`) and now, same machine and run.

    Rows: the real Pose2Sim demo (4 cameras x 100 frames, OpenPose) with the focal length
    unknown (shared and per camera) and known; `speed_frames` frames of the synthetic walk seen
    by 8 cameras, focal unknown. Targets (issue 12): the demo with unknown focal <= 15 s, 10,000
    frames x 8 cameras <= 60 s, on 2 cores. Wall and CPU seconds (CPU: this process, all its
    threads; on a shared machine it is the steadier of the two).
    """
    rows = []
    fmt = lambda v, p=2: None if v is None else round(float(v), p)  # noqa: E731
    for label in ("baseline", "current"):
        ctx = baseline_solver() if label == "baseline" else contextlib.nullcontext()
        with ctx:
            for focal_mode in ("shared", "per-camera", "known"):
                err, focal, wall, res = real_demo(focal_mode == "known", focal_mode == "shared")
                cpu = CALIBRATE_CPU_S[-1]
                rows.append(["Pose2Sim demo, 4 cams x 100 frames", focal_mode, label,
                             fmt(err["rot_rel"].mean(), 3),
                             None if focal is None else fmt(np.abs(focal).mean()),
                             fmt(wall, 1), fmt(cpu, 1)])
                print(format_table([rows[-1]], SPEED_HEADERS), file=sys.stderr)
            r = synthetic_row("walk", 8, 2.0, 0.0, "epicap", focal_known=False,
                              frames=speed_frames)
            wall, cpu = r["s"], CALIBRATE_CPU_S[-1]
            rows.append([f"walk, 8 cams x {speed_frames} frames", "per-camera", label,
                         fmt(r.get("rot"), 3), fmt(r.get("focal")), fmt(wall, 1), fmt(cpu, 1)])
            print(format_table([rows[-1]], SPEED_HEADERS), file=sys.stderr)
    print("\n## Speed of calibrate (targets: demo <= 15 s, 10,000 x 8 <= 60 s, 2 cores)\n")
    print(format_table(rows, SPEED_HEADERS))


SPEED_HEADERS = ["case", "focal", "code", "rel rot deg", "focal err %", "wall s", "CPU s"]

HEADERS = ["clip", "C", "noise px", "bias px", "focal", "method", "cams", "rot deg",
           "centre %", "focal err %", "scale %", "MPJPE ratio", "s", "note"]

if __name__ == "__main__":
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    sys.exit(main())
