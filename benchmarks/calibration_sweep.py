"""Random-rig sweep of calibration from the people in view (issue 12, item 7).

Each seed draws a rig from `epicap.synthetic.rigs.RigFamily()` (layouts ring, corners, one wall,
a line; 2-16 cameras; focal 500-3000 px; principal points up to 3% off-centre; k1 -0.35..0.1;
landscape and portrait, mixed resolutions; heights 0.3-3.5 m, tilts up to 45 deg; upper-body
and part-time framings, lost windows) around a DeepMimic clip (by seed: walk, dance, crawl,
jump, kick, get-up), and the benchmark's noise model: 2 px Gaussian noise, 10% outliers, 10%
missing, each camera losing the subject for 10% of the frames (`SceneOptions`, as the ring rows).

Intrinsics: "known" passes the true K and distortion; "unknown" calibrates with
`intrinsics=None` (each camera's focal length searched with the principal point centred and no
distortion; the last adjustment then frees principal points and k1 when the held-out check keeps
them, and k2 beside k1 when the same held-out joints fit better with it,
`calibration_free.intrinsics.free_intrinsics`); "ideal" is "unknown" on the same rigs with
the principal point centred and k1 = 0 in the truth: the gap between the two is what the lens
model costs; "same" is "ideal" with every camera of a rig one model (the first camera's image
size and focal length; other rigs, as the focal lengths change the distances): what is left of
the gap comes from the focal lengths differing between cameras (one focal length is searched);
"focal" gives the true focal lengths with the principal point at the centre and no distortion
(a spec sheet's intrinsics) on the rigs of "known": the gap to "known" is the lens's alone.
"k2" is "unknown" on rigs whose lenses also have k2 (uniform in `LENS_K2`, redrawn where the lens
would fold inside the image); "k2 as k1" the same rigs calibrated with k1 alone (`--radial 1`):
the gap is what estimating k2 where the held-out joints keep it recovers.

Columns per rig (`scored_calibration` of calibration.py): rot = mean relative rotation error over
camera pairs, deg; rot bound = its Cramer-Rao bound (`rotation_bound`: what the clean joints the
detector reports allow at 2 px, intrinsics known or estimated as calibrate does; the summary's
median of it says how far a rotation target is within reach of any method); centre = centre error,
% of the mean baseline, after the similarity that aligns the recovered joints onto the true ones
(defined for lines and two cameras too); focal = mean |focal error| % (unknown); ratio = MPJPE
with the recovered / with the true cameras, same 2D, same triangulator (MPJPE mm: both, after one
similarity); s = wall seconds of `calibrate`; status = ok, "excluded" (cameras the result names as
not calibrated, with their reasons), "named" (calibrate raised InputError/GeometryError: its
message) or "UNEXPLAINED" (any other exception: a bug). "seen" is the least share of the motion's
joint-frames a camera reports (in view, not lost, not dropped): below 10% the data cannot place
that camera, and the output says so.
"z" (JSON only): per calibrated camera, (estimate - truth) / the spread the calibration table
reports for focal, cx, cy and k1; the summary's "how honest" table gives the median |z| (0.67
when the spreads are honest) and the shares within 1, 2 and 3 spreads. "turn_spread" (JSON
only): the calibration's "relative turns fixed to ± x deg"; the "turn" table gives each rig's rot
over the 0.92 x turn_spread it leads to expect (about 1 when honest).
Summary per intrinsics: rigs of 4+ cameras (the targets: ratio <= 1.05 on >= 95% of rigs; rot
median <= 0.2 deg known, <= 0.3 unknown) and 2-3-camera rigs apart; median, p90, the worst rig
(seed and description), whether the targets are met, every failure with its reason, and the
rigs over the ratio target that no failure names. A failed rig counts as the worst.

    python benchmarks/calibration.py --only sweep --rigs 20               # quick look: 20 s
    python benchmarks/calibration.py --only sweep --rigs 20 --intrinsics unknown       # 2 min
      (measured on 2 cores, 1 BLAS thread; a rig of 16 cameras alone takes a minute unknown)
    python benchmarks/calibration.py --only sweep --rigs 100 --intrinsics both --jsonl out.jsonl
"""
from __future__ import annotations

import dataclasses
import json
import sys
import time

import numpy as np

from calibration import scored_calibration  # benchmarks/ is the script's folder
from epicap.calibration_free.pipeline import CalibrationOptions
from epicap.console import format_table
from epicap.errors import InputError
from epicap.session import Cameras

# (clip, turn deg/s): the travelling clips circle (radius ~2 m) so the subject stays in a volume
SWEEP_CLIPS = (("walk", 28.0), ("dance_a", 40.0), ("crawl", 20.0), ("jump", 60.0),
               ("kick", 0.0), ("getup_faceup", 0.0))
MODES = ("known", "unknown", "ideal", "same", "focal", "k2", "k2 as k1")
TARGET_RATIO, TARGET_SHARE = 1.05, 0.95
TARGET_ROT = {"known": 0.2, "unknown": 0.3, "ideal": 0.3, "same": 0.3, "focal": 0.3,
              "k2": 0.3, "k2 as k1": 0.3}
# lenses with k2 as well ("k2" modes): k2 uniform in this range beside the family's k1 (the
# published Human3.6M lenses: k1 about -0.2, k2 +0.22..+0.26)
LENS_K2 = (0.0, 0.3)
ROW_HEADERS = ["seed", "intrinsics", "layout", "cams", "clip", "rot deg", "rot bound deg",
               "centre %",
               "focal %", "ratio", "MPJPE mm (true cams)", "min seen %", "s", "status", "rig"]


def sweep_scene(seed: int, frames: int = 200, mode: str = "known"):
    """(clip, RandomRig, scene) of one sweep rig: clip by seed, rig drawn with `seed` from the
    family of `mode` (see the module doc)."""
    from epicap.synthetic import SceneOptions, load_clip, make_scene
    from epicap.synthetic.rigs import RigFamily, random_rig

    name, turn = SWEEP_CLIPS[seed % len(SWEEP_CLIPS)]
    clip = load_clip(name, "coco17", fps=30, num_frames=frames, turn_deg_per_s=turn)
    family = (RigFamily(pp_offset=0.0, k1=(0.0, 0.0), same_camera=mode == "same")
              if mode in ("ideal", "same") else
              RigFamily(k2=LENS_K2) if mode.startswith("k2") else RigFamily())
    rig = random_rig(seed, clip.positions, family)
    scene = make_scene(clip, rig.cameras, SceneOptions(
        noise_px=2.0, outlier_fraction=0.1, missing_fraction=0.1, lose_fraction=0.1,
        lose_subject=rig.lose_subject, seed=seed))
    return clip, rig, scene


def rotation_bound(cams: Cameras, scene, known: bool) -> float:
    """The Cramer-Rao bound of the mean relative rotation error (degrees) of a rig: what the
    scene's clean joints, seen where the detector reports them (outliers out), allow a
    calibration at the scene's noise, with the intrinsics known, or estimated as `calibrate`
    estimates them (per-camera focal, principal point and k1) under Gaussian priors as wide as
    the rig family draws them (`RigFamily()`: principal points uniform within 3%, standard
    deviation 1.7%; k1 uniform in -0.35..0.1, 0.13): the Bayesian bound. 0.92 times the root
    mean square over camera pairs of the bound on the angle error (`adjustment_spread` at the
    true rig)."""
    from epicap.geometry.bundle_adjustment import BundleAdjustmentOptions, adjustment_spread
    from epicap.geometry.camera import project_points

    from epicap.synthetic.rigs import RigFamily

    family = RigFamily()
    T, J = scene.poses3d.shape[:2]
    X = scene.poses3d.reshape(-1, 3)
    seen = (~scene.missing & ~scene.outlier).reshape(len(cams), -1)
    seen &= seen.sum(axis=0, keepdims=True) >= 2
    uv = np.where(seen[..., None], project_points(X, cams.K, cams.R, cams.t, cams.dist)[0],
                  np.nan)
    ba = (BundleAdjustmentOptions() if known else BundleAdjustmentOptions(
        focal="per_camera", principal_point=True, radial=1,
        principal_point_prior=family.pp_offset / np.sqrt(3),
        radial_prior=(family.k1[1] - family.k1[0]) / np.sqrt(12)))
    spread = adjustment_spread(uv, seen.astype(np.float64), cams.K, cams.dist, cams.R, cams.t,
                               X, np.tile(np.arange(J), T), ba, cams.image_size,
                               noise_px=scene.options.noise_px)
    return float("nan") if spread is None else 0.921 * spread.pair_turn_deg


def sweep_row(seed: int, mode: str, frames: int = 200) -> dict:
    """One rig calibrated with intrinsics `mode` (one of MODES): a JSON-able dict
    of the row's columns plus "reason" (a failure's message) and "kind" (ok, excluded, named,
    UNEXPLAINED)."""
    clip, rig, scene = sweep_scene(seed, frames, mode)
    cams = rig.cameras
    reported = ~scene.missing  # (C, T, J) what each camera's detector reports
    seen = {n: float(reported[c].mean()) for c, n in enumerate(cams.names)}
    row = {"seed": seed, "mode": mode, "layout": rig.layout, "C": len(cams), "clip": clip.name,
           "rig": rig.describe(), "min_seen": min(seen.values()), "seen": seen,
           "bound": rotation_bound(cams, scene, mode in ("known", "focal"))}
    intr = None
    if mode == "known":
        intr = Cameras(cams.names, cams.image_size, cams.K, cams.dist)
    elif mode == "focal":
        K = cams.K.copy()
        K[:, :2, 2] = (cams.image_size - 1) / 2
        intr = Cameras(cams.names, cams.image_size, K, np.zeros((len(cams), 5)))
    options = CalibrationOptions(subject_height_m=clip.subject_height_m,
                                 radial=1 if mode == "k2 as k1" else 2)
    t0 = time.perf_counter()
    try:
        r = scored_calibration(cams, scene, intr, options, align_joints=True)
    except InputError as e:
        return {**row, "kind": "named", "reason": str(e), "s": time.perf_counter() - t0}
    except Exception as e:  # noqa: BLE001 - the sweep reports every failure by its kind
        return {**row, "kind": "UNEXPLAINED", "reason": f"{type(e).__name__}: {e}",
                "s": time.perf_counter() - t0}
    excluded = r["result"].excluded
    return {**row, "kind": "excluded" if excluded else "ok", "z": spread_z(r["result"], cams),
            "reason": "; ".join(f"{n} (sees {100 * seen[n]:.0f}%) {why}"
                                for n, why in excluded.items()),
            "turn_spread": r["result"].turn_spread_deg,
            **{k: r[k] for k in ("cams", "rot", "centre", "focal", "ratio", "mpjpe_mm",
                                 "mpjpe_true_mm", "s")}}


Z_NAMES = ("focal", "cx", "cy", "k1")


def spread_z(result, cams: Cameras) -> list[list[float | None]]:
    """Per calibrated camera, (estimate - truth) / reported spread of focal, cx, cy, k1 (None where
    not estimated): the calibration table's "value ± spread" checked against the truth. Honest
    spreads give |z| a median of 0.67 (Gaussian errors)."""
    out = []
    for rep in result.reports:
        if rep.excluded or rep.spread is None:
            continue
        c = cams.names.index(rep.name)
        truth = (cams.K[c, 0, 0], cams.K[c, 0, 2], cams.K[c, 1, 2], cams.dist[c, 0])
        pp = rep.principal_point if rep.principal_point is not None else (np.nan, np.nan)
        k1 = rep.dist[0] if rep.dist is not None else np.nan
        est = (rep.focal_px, pp[0], pp[1], k1)
        out.append([round(float((e - t) / sd), 3) if np.isfinite(sd) and sd > 0 and
                    np.isfinite(e) else None
                    for e, t, sd in zip(est, truth, rep.spread[:4])])
    return out


def spread_table(rows: list[dict]) -> str:
    """Per unknown-intrinsics mode: how honest the reported spreads are (`spread_z`): median |z|
    (0.67 when honest) and the share within 1, 2 and 3 spreads (68, 95, 99.7% when honest), per
    intrinsic over the cameras of 4+ camera rigs. "" without estimated intrinsics."""
    out = []
    for mode in MODES:
        zs = [z for r in rows if r["mode"] == mode and r["C"] >= 4 for z in r.get("z") or []]
        for k, name in enumerate(Z_NAMES):
            v = np.abs([z[k] for z in zs if z[k] is not None])
            if len(v):
                out.append([mode, name, len(v), round(float(np.median(v)), 2),
                            *(f"{100 * np.mean(v <= n):.0f}%" for n in (1, 2, 3))])
    return format_table(out, ["intrinsics", "estimated", "cameras", "median |error / spread|",
                              "within 1 spread", "within 2", "within 3"]) if out else ""


def turn_table(rows: list[dict]) -> str:
    """Per intrinsics mode: how honest the reported turn spread is (the calibration's "relative
    turns fixed to ± x deg", the covariance's root mean square over pairs): each rig's mean
    relative rotation error over the 0.92 x spread it leads to expect; median, p90 and the
    largest (about 1 when honest), over rigs of 4+ cameras. "" without spreads."""
    out = []
    for mode in MODES:
        q = np.array([r["rot"] / (0.921 * r["turn_spread"]) for r in rows
                      if r["mode"] == mode and r["C"] >= 4 and r.get("rot") is not None
                      and r.get("turn_spread") and np.isfinite(r["turn_spread"])])
        if len(q):
            out.append([mode, len(q), _stat(q, 50), _stat(q, 90), round(float(q.max()), 2)])
    return format_table(out, ["intrinsics", "rigs", "median", "p90", "largest"]) if out else ""


def _fmt(v, p=3):
    return None if v is None else round(float(v), p)


def row_cells(r: dict) -> list:
    """The per-rig table's cells of a `sweep_row` dict."""
    status = r["kind"] if r["kind"] == "ok" else f"{r['kind']}: {r['reason'][:90]}"
    return [r["seed"], r["mode"], r["layout"], r.get("cams", f"0/{r['C']}"), r["clip"],
            _fmt(r.get("rot")), _fmt(r.get("bound")), _fmt(r.get("centre"), 2),
            _fmt(r.get("focal"), 2),
            _fmt(r.get("ratio")), (f"{r['mpjpe_mm']:.1f} ({r['mpjpe_true_mm']:.1f})"
                                   if "mpjpe_mm" in r else None),
            round(100 * r["min_seen"]), _fmt(r["s"], 1), status,
            r["rig"]]


FAILED = 1e9  # a failed rig's ratio and rotation in the statistics ("failed" in the table)


def _stat(values, q):
    """The q-th percentile (nearest rank above) of values, "failed" when a failed rig is it."""
    v = float(np.percentile(values, q, method="higher"))
    return "failed" if v >= FAILED else round(v, 3)


def summary(rows: list[dict]) -> str:
    """Per intrinsics mode and camera-count group: the summary table, then the worst rigs and
    every failure with its reason (and whether the data could place the camera at all)."""
    out, lines = [], []
    for mode in MODES:
        for label, pick in (("4+ cams", lambda r: r["C"] >= 4), ("2-3 cams", lambda r: r["C"] < 4)):
            rs = [r for r in rows if r["mode"] == mode and pick(r)]
            if not rs:
                continue
            ratio = np.array([r.get("ratio", FAILED) for r in rs], dtype=np.float64)
            ratio = np.where(np.isfinite(ratio), ratio, FAILED)
            rot = np.array([r.get("rot", FAILED) for r in rs], dtype=np.float64)
            fails = [r for r in rs if r["kind"] in ("named", "UNEXPLAINED")]
            worst = rs[int(np.argmax(ratio))]
            focal = [r["focal"] for r in rs if r.get("focal") is not None]
            share = np.mean(ratio <= TARGET_RATIO)
            rot_ok = np.percentile(rot, 50, method="higher") <= TARGET_ROT[mode]
            met = (f"{'met' if share >= TARGET_SHARE else 'MISSED'} / "
                   f"{'met' if rot_ok else 'MISSED'}" if label == "4+ cams" else "-")
            out.append([mode, label, len(rs), len(fails),
                        sum(r["kind"] == "excluded" for r in rs),
                        _stat(ratio, 50), _stat(ratio, 90),
                        f"{100 * share:.0f}%", _stat(rot, 50), _stat(rot, 90),
                        _fmt(np.nanmedian([r.get("bound", np.nan) for r in rs])), met,
                        _fmt(np.median(focal), 2) if focal else None,
                        _fmt(np.median([r["s"] for r in rs]), 1),
                        f"{worst['seed']} ({_fmt(worst.get('ratio')) or 'failed'}: "
                        f"{worst['rig']})"])
    lines.append(format_table(out, ["intrinsics", "rigs", "n", "failed", "excluded cams",
                                    "ratio median", "ratio p90",
                                    f"ratio <= {TARGET_RATIO}", "rot median deg", "rot p90 deg",
                                    "rot bound median deg", "targets (ratio / rot)",
                                    "focal median %", "s median", "worst rig (seed)"],
                              floatfmt=".4g"))
    by_layout = []
    for mode in MODES:
        for layout in ("ring", "corners", "wall", "line"):
            rs = [r for r in rows if r["mode"] == mode and r["layout"] == layout and r["C"] >= 4]
            if rs:
                ratio = np.array([r.get("ratio", FAILED) for r in rs], dtype=np.float64)
                rot = np.array([r.get("rot", FAILED) for r in rs], dtype=np.float64)
                by_layout.append([mode, layout, len(rs),
                                  f"{100 * np.mean(ratio <= TARGET_RATIO):.0f}%",
                                  _stat(ratio, 50), _stat(rot, 50), _stat(rot, 90)])
    lines.append("\nBy layout (4+ cams)\n")
    lines.append(format_table(by_layout, ["intrinsics", "layout", "rigs",
                                          f"ratio <= {TARGET_RATIO}", "ratio median",
                                          "rot median deg", "rot p90 deg"]))
    spread = focal_spread_table(rows)
    if spread:
        lines.append("\nEstimated intrinsics by the rig's focal spread (largest / smallest focal "
                     "length; 4+ cams): share of rigs with ratio <= 1.05, median ratio, median "
                     "rot deg\n")
        lines.append(spread)
    honest = spread_table(rows)
    if honest:
        lines.append("\nHow honest the reported spreads are (the table's \"value ± spread\" "
                     "against the truth, 4+ cams; honest: median 0.67, 68 / 95 / 99.7%)\n")
        lines.append(honest)
    turns = turn_table(rows)
    if turns:
        lines.append("\nHow honest the reported turn spread is (rot / (0.92 x the calibration's "
                     "\"relative turns fixed to ± x deg\"), 4+ cams; honest: median about 1)\n")
        lines.append(turns)
    bad = [r for r in rows if r["kind"] != "ok"]
    if bad:
        lines.append("\nFailures and excluded cameras (seen: the camera's reported joint-frames; "
                     "under 10% the data cannot place it):")
        for r in bad:
            why = ("the data cannot fix it" if r["min_seen"] < 0.10 else
                   "a limit of the model: one focal length is searched for every camera"
                   if "focal length" in r["reason"] and r["mode"] != "known" else
                   "every camera sees >= 10%: NOT explained by the data")
            lines.append(f"- seed {r['seed']} {r['mode']} [{r['kind']}] {r['rig']}: "
                         f"{r['reason']} (least seen {100 * r['min_seen']:.0f}%: {why})")
    for mode in MODES:
        silent = [r for r in rows if r["mode"] == mode and r["kind"] in ("ok", "excluded")
                  and r["ratio"] > TARGET_RATIO]
        if not silent:
            continue
        lines.append(f"\n{mode}: {len(silent)} rigs over ratio {TARGET_RATIO} with no failure "
                     "named" + (":" if len(silent) <= 12 else " (the 12 worst):"))
        for r in sorted(silent, key=lambda r: -r["ratio"])[:12]:
            mm = (f" (MPJPE {r['mpjpe_mm']:.1f} mm, true cameras {r['mpjpe_true_mm']:.1f})"
                  if "mpjpe_mm" in r else "")
            lines.append(f"- seed {r['seed']} ({r['clip']}) ratio {r['ratio']:.3f}{mm}, rot "
                         f"{r['rot']:.2f} deg, centres {r['centre']:.2f}%: {r['rig']}")
    return "\n".join(lines)


SPREAD_BINS = ((1.0, 1.0001), (1.0001, 1.5), (1.5, 2.5), (2.5, np.inf))


def focal_spread_table(rows: list[dict]) -> str:
    """Rows of unknown-intrinsics modes binned by the rig's focal spread (from its description's
    "f MIN-MAX"): how much of the gap one searched focal length explains. "" without them."""
    import re

    out = []
    for mode in ("unknown", "ideal", "same"):
        rs = [r for r in rows if r["mode"] == mode and r["C"] >= 4]
        for lo, hi in SPREAD_BINS:
            f = [re.search(r"f (\d+)-(\d+)", r["rig"]).groups() for r in rs]
            pick = [r for r, (a, b) in zip(rs, f) if lo <= int(b) / int(a) < hi]
            if not pick:
                continue
            ratio = np.array([r.get("ratio", FAILED) for r in pick], dtype=np.float64)
            rot = np.array([r.get("rot", FAILED) for r in pick], dtype=np.float64)
            out.append([mode, "1 (one focal)" if hi < 1.001 else f"{lo:.1f}-{hi:.1f}",
                        len(pick), f"{100 * np.mean(ratio <= TARGET_RATIO):.0f}%",
                        _stat(ratio, 50), _stat(rot, 50)])
    return format_table(out, ["intrinsics", "focal spread", "rigs", "ratio <= 1.05",
                              "ratio median", "rot median deg"]) if out else ""


def run_sweep(rigs: int = 100, modes=("known",), frames: int = 200, seed0: int = 0,
              jsonl: str | None = None) -> list[dict]:
    """Calibrate `rigs` seeded rigs (seeds seed0 ...) in each of `modes`; print every row as it
    finishes (stderr), append it to `jsonl` if given, then print the per-rig table and the
    summary (stdout). Returns the rows."""
    rows = []
    for seed in range(seed0, seed0 + rigs):
        for mode in modes:
            r = sweep_row(seed, mode, frames)
            rows.append(r)
            print(format_table([row_cells(r)], ROW_HEADERS, floatfmt=".4g").splitlines()[-1],
                  file=sys.stderr, flush=True)
            if jsonl:
                with open(jsonl, "a") as f:
                    f.write(json.dumps(r) + "\n")
    print(f"## Random-rig sweep: {rigs} rigs (seeds {seed0}-{seed0 + rigs - 1}), {frames} "
          "frames, 2 px noise, 10% outliers / missing / lost\n")
    print(format_table([row_cells(r) for r in rows], ROW_HEADERS, floatfmt=".4g"))
    print()
    print(summary(rows))
    return rows


def load_rows(paths) -> list[dict]:
    """Rows written by `run_sweep(jsonl=...)` (several files: concatenated)."""
    rows = []
    for p in paths:
        with open(p) as f:
            rows += [json.loads(line) for line in f if line.strip()]
    return rows


def describe_draws(seed: int, frames: int = 200) -> str:
    """Every camera's drawn values of one sweep rig, one line each (for the analysis)."""
    _, rig, scene = sweep_scene(seed, frames)
    reported = (~scene.missing).mean(axis=(1, 2))
    return "\n".join(f"{d.name}: " + ", ".join(
        f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
        for k, v in dataclasses.asdict(d).items() if k != "name") + f", reported={reported[c]:.2f}"
        for c, d in enumerate(rig.draws))


if __name__ == "__main__":  # the summary of saved rows: calibration_sweep.py ROWS.jsonl ...
    print(summary(load_rows(sys.argv[1:])))
