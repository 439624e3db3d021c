"""The report's plots, drawn with matplotlib's Agg backend (no display) and returned as PNG bytes.

Each function takes arrays, not files, and draws one figure.
"""
from __future__ import annotations

import io
import warnings

import numpy as np

from epicap.session import Cameras, Poses3D
from epicap.viz.people import person_rgb
from epicap.viz.scene import LEFT_RGB, RIGHT_RGB

__all__ = ["camera_layout_png", "error_histograms_png", "error_over_time_png", "view_counts_png",
           "training_curves_png"]


def _figure(width_in: float = 7.0, height_in: float = 4.0, **kw):
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width_in, height_in), **kw)


def _png(fig) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return buf.getvalue()


def camera_layout_png(cameras: Cameras, poses: Poses3D | None = None) -> bytes:
    """Top view (world X right, Y up, metres): each camera's centre, viewing direction and
    horizontal field of view, its name, and the subject's root path on the floor."""
    fig, ax = _figure(6.0, 6.0)
    centres = cameras.centers
    for c, name in enumerate(cameras.names):
        x, y = centres[c, :2]
        axis = cameras.R[c][2]  # the optical axis in world coordinates
        w = float(cameras.image_size[c, 0])
        half = np.arctan2(w / 2, cameras.K[c, 0, 0])
        length = 0.25 * max(np.ptp(centres[:, :2], axis=0).max(), 1.0)
        heading = np.arctan2(axis[1], axis[0])
        for s in (-half, half):
            ax.plot([x, x + length * np.cos(heading + s)], [y, y + length * np.sin(heading + s)],
                    color="purple", lw=1)
        ax.annotate("", (x + length * axis[0], y + length * axis[1]), (x, y),
                    arrowprops=dict(arrowstyle="->", color="purple", lw=1.5))
        ax.plot(x, y, "s", color="purple")
        ax.annotate(f"{name}\nz={centres[c, 2]:.2f} m", (x, y), textcoords="offset points",
                    xytext=(6, 6), fontsize=8)
    if poses is not None:
        roots = poses.skeleton.root_of(poses.poses.astype(np.float64)).reshape(
            poses.num_people, -1, 3)  # (P, T, 3)
        for p, root in enumerate(roots):
            ok = np.isfinite(root).all(axis=1)
            colour, name = ("0.3", "subject") if poses.people is None else (
                person_rgb(p), poses.people[p])
            if ok.any():
                ax.plot(root[ok, 0], root[ok, 1], "-", color=colour, lw=1.5, label=f"{name} (root)")
                ax.plot(root[ok][0, 0], root[ok][0, 1], "o", color=colour, ms=4)
                ax.legend(loc="best", fontsize=8)
    ax.plot(0, 0, "+", color="k", ms=12)
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel("X (m)")
    ax.set_ylabel("Y (m)")
    ax.set_title("Camera layout from above")
    ax.grid(alpha=0.3)
    return _png(fig)


def error_histograms_png(errors_px: np.ndarray, names: list[str],
                         clip_px: float | None = None) -> bytes:
    """Histogram of reprojection errors per camera. errors_px: (C, T, J) pixels, NaN ignored.
    clip_px: the histogram's upper end (default: the 99th percentile)."""
    fig, ax = _figure()
    finite = errors_px[np.isfinite(errors_px)]
    top = clip_px or (float(np.percentile(finite, 99)) if finite.size else 1.0)
    bins = np.linspace(0, max(top, 1e-3), 40)
    for c, name in enumerate(names):
        e = errors_px[c][np.isfinite(errors_px[c])]
        if e.size:
            ax.hist(np.minimum(e, top), bins=bins, histtype="step", lw=1.5,
                    label=f"{name} (median {np.median(e):.2f} px)")
    ax.set_xlabel("reprojection error (px)")
    ax.set_ylabel("joints")
    ax.set_title("Reprojection error per camera")
    ax.legend(fontsize=8)
    return _png(fig)


def error_over_time_png(errors_px: np.ndarray, names: list[str], fps: float) -> bytes:
    """Median reprojection error over the joints of each frame, per camera, against time.
    errors_px: (C, T, J) pixels (or (1, T, J) for one overall curve)."""
    fig, ax = _figure(8.0, 3.5)
    T = errors_px.shape[1]
    t = np.arange(T) / fps
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN frames give NaN, as wanted
        for c, name in enumerate(names):
            ax.plot(t, np.nanmedian(errors_px[c], axis=-1), lw=1, label=name)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("median error (px)")
    ax.set_title("Reprojection error over time")
    ax.legend(fontsize=8, ncol=min(len(names), 6))
    ax.grid(alpha=0.3)
    return _png(fig)


def view_counts_png(views: np.ndarray, joints: list[str]) -> bytes:
    """Left: how many joints were triangulated from k views. Right: each joint's mean views.
    views: (T, J) views used per joint and frame (0 = not triangulated)."""
    fig, (a, b) = _figure(10.0, 4.0, ncols=2, gridspec_kw={"width_ratios": [1, 2]})
    k = np.bincount(views.reshape(-1).astype(int))
    a.bar(np.arange(len(k)), k, color="0.4")
    a.set_xlabel("views used")
    a.set_ylabel("joints x frames")
    a.set_title("View counts")
    colours = [LEFT_RGB if j.startswith("left_") else RIGHT_RGB if j.startswith("right_") else "0.4"
               for j in joints]
    b.bar(np.arange(len(joints)), views.mean(axis=0), color=colours)
    b.set_xticks(np.arange(len(joints)), joints, rotation=90, fontsize=7)
    b.set_ylabel("mean views")
    b.set_title("Mean views per joint")
    return _png(fig)


def training_curves_png(columns: dict[str, np.ndarray], x_name: str = "step") -> bytes:
    """One small plot per numeric column of a run's metrics against `x_name` (or the row index).
    columns: name -> (N,) values (NaN where a row has none)."""
    x = columns.get(x_name)
    names = [n for n in columns if n != x_name and np.isfinite(columns[n]).any()]
    if x is None or not np.isfinite(x).any():
        x, x_name = np.arange(len(next(iter(columns.values())))), "row"
    cols = min(3, max(len(names), 1))
    rows = max(1, int(np.ceil(len(names) / cols)))
    fig, axes = _figure(4.0 * cols, 2.8 * rows, nrows=rows, ncols=cols, squeeze=False)
    for ax, name in zip(axes.flat, names):
        ok = np.isfinite(columns[name]) & np.isfinite(x)
        ax.plot(x[ok], columns[name][ok], ".-", lw=1, ms=3)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel(x_name, fontsize=8)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    return _png(fig)
