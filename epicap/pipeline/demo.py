"""`epicap demo`: the whole job on the embedded default, on a fresh machine, in about 15 s.

A synthetic four-camera session made from real motion capture (DeepMimic's walk, embedded in the
package), seen with detector-like 2D noise, outliers and missing joints:
1. calibrate the cameras from the person alone (intrinsics given, no extrinsics),
2. compare them with the true cameras,
3. triangulate with the recovered cameras and with the true ones (same 2D, same triangulator),
4. make pseudo-labels, train the lifting student briefly, evaluate it against the true 3D of a
   held-out stretch of the walk seen by cameras at other positions,
5. render a picture of the recovered cameras and skeleton.
Everything lands in OUT; the summary table is returned for printing.
"""
from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from epicap.errors import InputError

__all__ = ["DemoOptions", "DemoResult", "run_demo"]


@dataclass(frozen=True)
class DemoOptions:
    """The demo's scene and budget. frames at `fps` (the subject walks in a circle)."""

    cameras: int = 4
    frames: int = 450
    fps: float = 30.0
    noise_px: float = 2.0
    outlier_fraction: float = 0.05
    missing_fraction: float = 0.05
    clip: str = "walk"
    epochs: int = 20
    seed: int = 0


@dataclass
class DemoResult:
    """What the demo measured (errors in degrees, metres and millimetres) and where it wrote."""

    out: Path
    rows: list[tuple[str, str]] = field(default_factory=list)
    camera_rows: list[tuple] = field(default_factory=list)
    picture: Path | None = None
    seconds: float = 0.0


def _scene(options: DemoOptions, seed: int, frames: int, start_s: float = 0.0,
           azimuth0_deg: float = 0.0):
    from epicap.synthetic import SceneOptions, load_clip, make_scene, ring_rig

    clip = load_clip(options.clip, "coco17", fps=options.fps, num_frames=frames, start_s=start_s,
                     turn_deg_per_s=30.0)
    heights = np.resize([1.3, 2.2, 1.6, 2.6], options.cameras)
    cameras = ring_rig(options.cameras, radius_m=5.0, height_m=heights, focal_px=1100.0,
                       image_size=(1280, 720), jitter_deg=3.0, jitter_m=0.3, seed=seed,
                       azimuth0_deg=azimuth0_deg)
    scene = make_scene(clip, cameras, SceneOptions(
        noise_px=options.noise_px, outlier_fraction=options.outlier_fraction,
        missing_fraction=options.missing_fraction, seed=seed))
    return clip, scene


def _prepare_out(out: Path, force: bool) -> None:
    if out.exists() and any(out.iterdir()):
        if not force:
            raise InputError(f"{out}: folder exists and is not empty; pass --force to replace "
                             "the demo's outputs there, or choose another --out")
        if not (out / "demo.toml").exists():
            raise InputError(f"{out}: not a folder the demo made (no demo.toml); refusing to "
                             "delete it even with --force")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "demo.toml").write_text('# made by `epicap demo`; --force may replace this folder\n')


def run_demo(out: str | os.PathLike, options: DemoOptions = DemoOptions(),
             force: bool = False) -> DemoResult:
    """Run the demo into the folder `out` (refused if it holds something else; see `--force`)."""
    from epicap.calibration_free import CalibrationOptions, calibrate
    from epicap.geometry.metrics import mpjpe
    from epicap.geometry.rig_metrics import compare_rigs
    from epicap.pipeline.triangulate import triangulate_keypoints
    from epicap.session import CAMERAS_FILE, POSES_FILE, Cameras
    from epicap.synthetic import write_session

    start = time.perf_counter()
    out = Path(out)
    _prepare_out(out, force)
    result = DemoResult(out)
    session = out / "session"

    clip, scene = _scene(options, options.seed, options.frames)
    write_session(scene, session)
    truth = scene.cameras
    intrinsics = Cameras(truth.names, truth.image_size, truth.K, truth.dist)

    calib = calibrate(scene.keypoints, intrinsics,
                      CalibrationOptions(subject_height_m=clip.subject_height_m))
    cams = calib.cameras
    cams.to_toml(session / CAMERAS_FILE)
    cmp = compare_rigs(truth.R, truth.t, cams.R, cams.t)

    est, _ = triangulate_keypoints(scene.keypoints, cams)
    ref, _ = triangulate_keypoints(scene.keypoints, truth)
    est.save(session / POSES_FILE)
    # the recovered world (floor, metres from the subject's height) vs the mocap world: both Z up
    # with the floor at 0, so compare after the rig's similarity alignment, not a per-pose one
    aligned = _to_truth_world(est.poses, truth, cams)
    gt = scene.poses3d
    m_est, m_ref = mpjpe(aligned, gt), mpjpe(ref.poses, gt)
    for c, name in enumerate(cams.names):
        result.camera_rows.append((name, float(cmp.rotation_deg[c]),
                                   1000 * float(cmp.centre_error_m[c]),
                                   float(calib.cameras.K[c, 0, 0])))
    result.rows += [
        ("cameras recovered", f"{len(cams)} of {len(truth)} (no board, no extrinsics)"),
        ("rotation error, mean", f"{cmp.rotation_deg.mean():.3f} deg"),
        ("relative rotation error, max", f"{cmp.relative_rotation_deg.max():.3f} deg"),
        ("camera centre error, mean", f"{1000 * cmp.centre_error_m.mean():.1f} mm "
                                      f"({cmp.centre_error_pct.mean():.2f}% of the baseline)"),
        ("metric scale (1 = exact)", f"{1 / cmp.scale:.3f}"),
        ("calibration RMS reprojection", f"{cams.error_px:.2f} px"),
        ("MPJPE, recovered cameras", f"{1000 * m_est:.1f} mm"),
        ("MPJPE, true cameras", f"{1000 * m_ref:.1f} mm"),
        ("MPJPE ratio (recovered / true)", f"{m_est / m_ref:.3f}"),
    ]
    result.rows += _student(out, session, options)
    result.picture = _picture(session, out / "demo.png")
    result.seconds = time.perf_counter() - start
    return result


def _to_truth_world(poses: np.ndarray, truth, est) -> np.ndarray:
    """Poses (T, J, 3) from the recovered world into the true one by the rig's similarity."""
    from epicap.geometry.alignment import umeyama

    s, Q, p = umeyama(est.centers, truth.centers)
    return s * poses @ Q.T + p


def _student(out: Path, session: Path, options: DemoOptions) -> list[tuple[str, str]]:
    """Pseudo-labels from the calibrated session, a short lifter training, evaluation against the
    true 3D of a held-out stretch of the motion seen from other camera positions."""
    from epicap.session import CAMERAS_FILE
    from epicap.synthetic import write_session
    from epicap.training.evaluate import evaluate_run
    from epicap.training.labels import LabelOptions, label_sessions
    from epicap.training.train import TrainConfig, train
    from epicap.pipeline.triangulate import triangulate_session

    heldout = out / "heldout"
    _, scene = _scene(options, options.seed + 1, 300, start_s=options.frames / options.fps + 5.0,
                      azimuth0_deg=45.0)
    write_session(scene, heldout)
    scene.cameras.to_toml(heldout / CAMERAS_FILE)          # evaluation only: true cameras
    triangulate_session(heldout)
    label = LabelOptions(crops=False)
    report = label_sessions([session], out / "dataset", label)
    label_sessions([heldout], out / "dataset-heldout", label)
    cfg = TrainConfig(dataset=str(out / "dataset"), out=str(out / "run"), student="lifter",
                      epochs=options.epochs, batch_size=128, width=512, seed=options.seed,
                      min_steps=0, quiet=True).validate()  # exactly `epochs`: the demo is timed
    started = time.perf_counter()
    train(cfg)
    seconds = time.perf_counter() - started
    ev = evaluate_run(out / "run", out / "dataset-heldout")
    return [
        ("pseudo-label samples", f"{report.samples} (camera x frame)"),
        ("student (lifter) training", f"{options.epochs} epochs, "
                                      f"{seconds:.0f} s"),
        ("student MPJPE / PA-MPJPE, held-out views", f"{ev.mpjpe_mm:.1f} / {ev.pa_mpjpe_mm:.1f} mm"
                                                    f" (vs {ev.reference})"),
        ("student PCK3D@150mm / PSS@50", f"{ev.pck3d_150:.3f} / {ev.pss50:.3f}"),
    ]


def _picture(session: Path, path: Path, truth=None,
             truth_title: str = "true rig (synthetic truth)") -> Path:
    """Panels side by side, over a legend: the true rig and motion, the rig and poses recovered
    without calibration (each in its own world frame), and the recovered skeleton close up.

    truth: (Cameras, Poses3D) of the true rig; default: the session's truth/ folder (synthetic
    sessions). Without one the true panel is left out.
    """
    from epicap.session import CAMERAS_FILE, POSES_FILE, Cameras, Poses3D
    from epicap.synthetic.session import TRUTH_DIR
    from epicap.viz.media import legend_strip, titled, write_png
    from epicap.viz.render import render_session_png
    from epicap.viz.scene import CENTRE_RGB, FRUSTUM_RGB, GRID_RGB, LEFT_RGB, RIGHT_RGB

    size = (640, 480)
    folder = session / TRUTH_DIR
    if truth is None and (folder / CAMERAS_FILE).is_file() and (folder / POSES_FILE).is_file():
        truth = (Cameras.from_toml(folder / CAMERAS_FILE), Poses3D.from_npz(folder / POSES_FILE))
    panels = [titled(render_session_png(truth, path, view="overview", size=size), truth_title)] \
        if truth is not None else []
    panels += [titled(render_session_png(session, path, view="overview", size=size),
                      "recovered without calibration"),
               titled(render_session_png(session, path, view="subject", size=size),
                      "recovered skeleton, close up")]
    picture = np.concatenate(panels, axis=1)
    legend = legend_strip(picture.shape[1], [
        (FRUSTUM_RGB, "cameras"), (LEFT_RGB, "left side"), (RIGHT_RGB, "right side"),
        (CENTRE_RGB, "centre"), (GRID_RGB, "floor, 0.5 m grid"),
        (None, "axes: red X, green Y, blue Z (up); metres")])
    write_png(path, np.concatenate([picture, legend], axis=0))
    return path
