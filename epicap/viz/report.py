"""`epicap report`: one self-contained HTML page about a session (and optionally a training run).

Sections: summary, camera layout from above, calibration table, reprojection error per camera
(histograms and over time), view counts, 3D snapshots from the offscreen renderer, 2D overlays,
sync offsets, and training curves from RUN/metrics.csv. Every picture is a PNG embedded as base64;
the page loads nothing from anywhere. A few lines of inline script count the pictures that decoded
(`<body data-images="ok N/N">`), which the headless-browser test reads.
"""
from __future__ import annotations

import base64
import csv
import html
import json
import os
import tomllib
from pathlib import Path

import numpy as np

from epicap.console import warn
from epicap.errors import InputError
from epicap.session import CAMERAS_FILE, KEYPOINTS_FILE
from epicap.session.calibration_record import read_calibration_record
from epicap.session.io import atomic_write
from epicap.viz import plots

__all__ = ["build_report", "write_report", "read_metrics", "read_sync_offsets"]

_CSS = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
h1{font-size:1.6em} h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;font-size:.85em} td,th{border:1px solid #ccc;padding:.25em .5em;
text-align:right} th{background:#f3f3f3} td:first-child,th:first-child{text-align:left}
img{max-width:100%;border:1px solid #ddd;margin:.3em 0} .note{color:#666;font-size:.9em}
.row{display:flex;flex-wrap:wrap;gap:.5em} .row img{max-width:49%}
td.flag{color:#a00;font-weight:bold}
"""
_SCRIPT = """
window.addEventListener('load', function () {
  var imgs = document.images, ok = 0;
  for (var i = 0; i < imgs.length; i++) { if (imgs[i].complete && imgs[i].naturalWidth > 0) ok++; }
  var state = (ok === imgs.length ? 'ok ' : 'broken ') + ok + '/' + imgs.length;
  document.body.setAttribute('data-images', state);
});
"""


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode()
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _table(headers: list[str], rows: list[list], status: str | None = None) -> str:
    """An HTML table; in the column named `status`, every cell other than "ok" stands out (a
    camera excluded, or with few inliers)."""
    def cell(v):
        if v is None or (isinstance(v, float) and not np.isfinite(v)):
            return "-"
        return f"{v:.3f}" if isinstance(v, float) else html.escape(str(v))

    flag = headers.index(status) if status in headers else -1

    def td(i, v):
        return f'<td class="flag">{cell(v)}</td>' if i == flag and v != "ok" else \
            f"<td>{cell(v)}</td>"

    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(td(i, v) for i, v in enumerate(r)) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def read_metrics(run_dir: str | os.PathLike) -> dict[str, np.ndarray]:
    """Numeric columns of RUN/metrics.csv: name -> (N,) float64 (NaN for empty or non-numeric
    cells); columns with no number at all are dropped. InputError if the file is missing."""
    path = Path(run_dir) / "metrics.csv"
    if not path.is_file():
        raise InputError(f"{path}: not found (a training run writes it: `epicap train`)")
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise InputError(f"{path}: no rows")
    out = {}
    for name in rows[0]:
        if name is None:
            continue
        values = np.array([_number(r.get(name)) for r in rows])
        if np.isfinite(values).any():
            out[name] = values
    if not out:
        raise InputError(f"{path}: no numeric columns")
    return out


def _number(text) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return float("nan")


def read_sync_offsets(session_dir: Path, names: list[str]) -> dict[str, dict[str, float]] | None:
    """Per-camera time offsets written by `epicap sync`, when the session records them.

    Reads sync.toml (or sync.json): the first table, at any depth, whose keys are camera names,
    e.g. `[cameras.cam01] offset_frames = 0.0, offset_s = 0.0, confidence = 0.9` or
    `[offsets] cam01 = 0.0`. Returns name -> {field: value} for the numeric fields, or None.
    """
    for name in ("sync.toml", "sync.json"):
        path = session_dir / name
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
            doc = tomllib.loads(text) if name.endswith(".toml") else json.loads(text)
        except (OSError, ValueError) as e:
            warn(f"{path}: unreadable ({e}); sync offsets left out of the report")
            return None
        found = _camera_table(doc, set(names))
        if found:
            return found
    return None


def _camera_table(doc, names: set[str]) -> dict[str, dict[str, float]] | None:
    if not isinstance(doc, dict):
        return None
    out = {}
    for k, v in doc.items():
        if k not in names:
            continue
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            out[k] = {"offset": float(v)}
        elif isinstance(v, dict):
            nums = {f: float(x) for f, x in v.items()
                    if isinstance(x, (int, float)) and not isinstance(x, bool)}
            if nums:
                out[k] = nums
    if out:
        return out
    for v in doc.values():
        found = _camera_table(v, names)
        if found:
            return found
    return None


def build_report(session_dir: str | os.PathLike, run_dir: str | os.PathLike | None = None,
                 snapshots: bool = True, snapshot_size: tuple[int, int] = (640, 400)) -> str:
    """The HTML text of the report of a session (and of a training run when `run_dir` is given).

    Needs cameras.toml and poses3d.npz; keypoints2d.npz adds per-camera reprojection errors and
    overlays. snapshots: render the 3D scene offscreen (front, top and the first camera's view).
    """
    from epicap.viz.inputs import load_session
    from epicap.viz.overlay import OverlaySource, contact_sheet, reprojection_residuals

    data = load_session(session_dir, "report", cameras=True, poses=True,
                        optional=(KEYPOINTS_FILE,))
    cams, poses, kp = data.cameras, data.poses, data.keypoints
    if kp is not None and kp.joint_set != poses.joint_set:
        warn(f"keypoints2d ({kp.joint_set}) and poses3d ({poses.joint_set}) use different joint "
             "sets: per-camera errors left out")
        kp = None
    if kp is not None and kp.people != poses.people:
        warn("keypoints2d.npz and poses3d.npz hold different people (triangulate again): "
             "per-camera errors and overlays left out")
        kp = None
    T, J = poses.valid.shape[-2:]  # several people: poses (P, T, J, 3)
    parts = [f"<h1>epicap report: {html.escape(str(data.root))}</h1>"]
    valid = poses.valid
    err = poses.reprojection_error[valid]
    summary = [["frames", T], ["fps", f"{poses.fps:g}"], ["joint set", poses.joint_set],
               ["cameras", len(cams)], ["joints triangulated", f"{valid.mean():.1%}"],
               ["median reprojection error (px)", float(np.median(err)) if err.size else None],
               ["calibration RMS error (px)", cams.error_px]]
    if poses.people is not None:
        summary.insert(4, ["people", ", ".join(poses.people)])
    parts += ["<h2>Summary</h2>", _table(["", "value"], summary)]
    if poses.people is not None:
        parts += _people_section(poses, kp)

    parts += ["<h2>Camera layout</h2>", _img(plots.camera_layout_png(cams, poses), "camera layout")]
    residuals = reprojection_residuals(cams, poses, kp) if kp is not None else None
    if residuals is not None:
        residuals = residuals.reshape(*residuals.shape[:2], -1)  # every person's joints: (C,T,PJ)
    rows = []
    for c, name in enumerate(cams.names):
        K, (w, h), C = cams.K[c], cams.image_size[c], cams.centers[c]
        med = None
        if residuals is not None and name in kp.cameras:
            e = residuals[kp.cameras.index(name)]
            med = float(np.nanmedian(e)) if np.isfinite(e).any() else None
        rows.append([name, f"{w}x{h}", K[0, 0], K[1, 1], K[0, 2], K[1, 2], *cams.dist[c, :3],
                     *C, med])
    parts += ["<h2>Calibration</h2>",
              _table(["camera", "size", "fx", "fy", "cx", "cy", "k1", "k2", "p1", "X (m)", "Y (m)",
                      "Z (m)", "median error (px)"], rows),
              '<p class="note">Camera centres in the world frame (Z up, metres); errors are '
              "detections against reprojected 3D joints.</p>"]
    record = read_calibration_record(data.root, data.root / CAMERAS_FILE)
    if record is not None:
        parts += ["<h3>How the joints fix each camera</h3>",
                  _table(record["header"], record["rows"], status="status"),
                  f'<p class="note">{html.escape(record["summary"])}.</p>']
        if record["warnings"]:
            parts += ['<p class="note">What calibrate warned about:</p><ul class="note">'
                      + "".join(f"<li>{html.escape(w)}</li>" for w in record["warnings"])
                      + "</ul>"]

    parts.append("<h2>Reprojection error</h2>")
    if residuals is not None:
        parts += [_img(plots.error_histograms_png(residuals, kp.cameras), "error histograms"),
                  _img(plots.error_over_time_png(residuals, kp.cameras, poses.fps),
                       "error over time")]
    else:
        e = np.where(valid, poses.reprojection_error, np.nan)
        e = np.moveaxis(e, -2, 0).reshape(1, T, -1)  # (1, T, J), or every person's joints
        parts += ['<p class="note">No keypoints2d.npz: the triangulation\'s mean error over the '
                  "views used, all cameras together.</p>",
                  _img(plots.error_histograms_png(e, ["all cameras"]), "error histogram"),
                  _img(plots.error_over_time_png(e, ["all cameras"], poses.fps), "error over time")]

    views = np.moveaxis(poses.views, -2, 0).reshape(-1, J)  # (T, J), several: person-frames
    parts += ["<h2>View counts</h2>", _img(plots.view_counts_png(views, poses.joints),
                                           "view counts")]
    if snapshots:
        parts += ["<h2>3D snapshots</h2>", _snapshots(cams, poses, snapshot_size)]
    if kp is not None:
        sheet = contact_sheet(OverlaySource(kp, cams, poses, data.root), columns=4, tile_width=240)
        from epicap.viz.media import encode_png

        colours = ("left blue, right orange" if kp.people is None else
                   "each person in their colour, left lighter, right darker, id above")
        parts += ["<h2>2D overlays</h2>",
                  f'<p class="note">Filled dots: detections ({colours}); white rings: '
                  "reprojected 3D joints; magenta: their disagreement.</p>",
                  _img(encode_png(sheet), "overlay contact sheet")]

    parts.append("<h2>Sync offsets</h2>")
    offsets = read_sync_offsets(data.root, cams.names)
    if offsets:
        fields = list(dict.fromkeys(f for v in offsets.values() for f in v))
        parts.append(_table(["camera"] + fields,
                            [[n] + [offsets.get(n, {}).get(f) for f in fields] for n in cams.names]))
    else:
        parts.append('<p class="note">No sync offsets recorded in this session '
                     f"(run <code>epicap sync {html.escape(str(data.root))}</code>).</p>")
    if run_dir is not None:
        parts += _training_section(Path(run_dir))
    body = "\n".join(parts)
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>epicap report</title><style>{_CSS}</style><script>{_SCRIPT}</script>"
            f"</head><body>\n{body}\n</body></html>\n")


def _training_section(run_dir: Path) -> list[str]:
    """Learning curves and last values from RUN/metrics.csv (the learning rate in scientific
    notation: 1e-3 decays to 5e-5, which three decimals print as 0.000) and, when `evaluate` wrote
    one, RUN/evaluation.json."""
    metrics = read_metrics(run_dir)
    last = []
    for k, v in metrics.items():
        value = float(v[np.isfinite(v)][-1])
        if k == "lr":
            last.append([k, f"{value:.2e}"])
        elif k in ("step", "epoch"):
            last.append([k, int(value)])
        else:
            last.append([k, value])
    parts = [f"<h2>Training: {html.escape(str(run_dir))}</h2>",
             _img(plots.training_curves_png(metrics), "training curves"),
             _table(["metric", "last value"], last)]
    best = run_dir / "best.pt"
    if "val_mpjpe_mm" in metrics and best.is_file():
        vals = metrics["val_mpjpe_mm"]
        i = int(np.nanargmin(vals))
        parts.append(f'<p class="note">best.pt (what evaluate and infer use): step '
                     f'{int(metrics["step"][i])}, validation MPJPE {vals[i]:.1f} mm.</p>')
    path = run_dir / "evaluation.json"
    if path.is_file():
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            warn(f"{path}: unreadable ({e}); evaluation left out of the report")
            return parts
        rows = [[k, v] for k, v in doc.items() if isinstance(v, (int, float, str))]
        parts += ["<h3>Evaluation (evaluation.json)</h3>", _table(["metric", "value"], rows)]
    return parts


def _people_section(poses, kp) -> list[str]:
    """The per-person table and the timeline of who is seen by which camera."""
    from epicap.viz.report_people import PEOPLE_HEADERS, people_rows, presence, timeline_png

    share, strips = presence(poses, kp)
    return ["<h2>People</h2>", _table(PEOPLE_HEADERS, people_rows(poses)),
            '<p class="note">Person p0 is the main subject (the most prominent; `epicap '
            "calibrate --subject` names whose height sets the scale). Frames triangulated: "
            "frames with at least one joint in 3D; height: the head above the floor where the "
            "person stands upright, else from the arm and leg lengths.</p>",
            _img(timeline_png(share, strips, poses.people, poses.fps), "who is seen when")]


def _snapshots(cams, poses, size) -> str:
    from epicap.viz.media import encode_png
    from epicap.viz.render import OffscreenScene
    from epicap.viz.viewpoint import view_camera

    scene = OffscreenScene(cams, poses, size)
    views = ["front", "top", f"camera:{cams.names[0]}"]
    imgs = [_img(encode_png(scene.render(view_camera(v, cams, poses, size))), f"3D view {v}")
            for v in views]
    return ('<div class="row">' + "".join(imgs) + "</div>"
            f'<p class="note">Frame {scene.frame} (the one with the most triangulated joints); '
            "views: front, top, through " + html.escape(cams.names[0]) + ".</p>")


def write_report(session_dir: str | os.PathLike, out: str | os.PathLike,
                 run_dir: str | os.PathLike | None = None, snapshots: bool = True) -> Path:
    """Build the report and write it atomically to `out`. Returns the path."""
    text = build_report(session_dir, run_dir, snapshots)
    with atomic_write(out, "w") as f:
        f.write(text)
    return Path(out)

