"""How two calibrations of the same cameras differ: `compare_calibrations(a, b)`.

For the cameras both hold (matched by name, in a's order):
- relative rotation of every camera pair, R_b(j) R_b(i)^T against R_a(j) R_a(i)^T, in degrees
  (needs no alignment of the two world frames);
- each camera's rotation after the best common rotation of b's world onto a's (the chordal mean,
  Hartley et al., "Rotation averaging", IJCV 2013);
- camera centres after the similarity that maps b's centres onto a's (Umeyama 1991; with two
  cameras or centres on one line, the common rotation above with the least-squares scale and
  shift), in metres of a, and that similarity's scale (1 when both are metric);
- focal length and principal point differences b - a in pixels, and in % of a's focal length
  and of a's image width / height.
a is the reference (e.g. a board or mocap calibration), b the one checked (e.g. epicap's).

Given 2D joints of a recording by these cameras (a keypoints2d.npz), both calibrations are also
checked against the images themselves: each camera's joints against their reprojection from the
other cameras' triangulation (`geometry.rig_metrics.held_out_fit`). The median distance says how
well a calibration explains the recording; the median signed offset, when it points one way by
much more than the detector's bias between views, says a camera turned or moved since it was
calibrated (or its video is shifted against its calibration). A calibration found from these
same joints (epicap's from this recording) was fitted to them: a fair check uses another one.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from epicap.errors import GeometryError, InputError
from epicap.geometry.alignment import umeyama
from epicap.geometry.camera import camera_centers
from epicap.geometry.rig_metrics import HeldOutFit, rotation_angle_deg, z_angle_deg
from epicap.session.cameras import Cameras

__all__ = ["CalibrationComparison", "compare_calibrations"]


@dataclass
class CalibrationComparison:
    """cameras: the C names both calibrations hold. only_a, only_b: names in one only.
    focal_px, principal_px: (C, 2) b - a of (fx, fy) and (cx, cy), pixels. focal_pct: (C, 2) of
    a's focal lengths; principal_pct: (C, 2) of a's image width, height. pairs: the P camera
    pairs (names); relative_rotation_deg: (P,). rotation_deg, centre_error_m: (C,) after the
    alignment. scale: of the similarity mapping b's world onto a's. up_deg: the angle between
    their Z axes under it (both Z up: how far b's vertical is from a's). alignment: how the centres
    were aligned. All extrinsic fields are None when either calibration lacks extrinsics or
    fewer than 2 cameras are shared. notes: what could not be compared, and why. fit_a, fit_b:
    how well each explains a recording's 2D joints (`held_out_fit`), None without one."""

    cameras: list[str]
    only_a: list[str]
    only_b: list[str]
    focal_px: np.ndarray
    focal_pct: np.ndarray
    principal_px: np.ndarray
    principal_pct: np.ndarray
    pairs: list[tuple[str, str]] = field(default_factory=list)
    relative_rotation_deg: np.ndarray | None = None
    rotation_deg: np.ndarray | None = None
    centre_error_m: np.ndarray | None = None
    scale: float | None = None
    up_deg: float | None = None
    alignment: str | None = None
    notes: list[str] = field(default_factory=list)
    fit_a: HeldOutFit | None = None
    fit_b: HeldOutFit | None = None

    def table(self) -> str:
        """The per-camera table, the per-pair table and a summary, as Markdown text."""
        from epicap.console import format_table

        ext = self.rotation_deg is not None
        rows = [(name,
                 round(float(self.rotation_deg[c]), 3) if ext else None,
                 round(100 * float(self.centre_error_m[c]), 2) if ext else None,
                 *(round(float(v), 2) for v in self.focal_px[c]),
                 *(round(float(v), 3) for v in self.focal_pct[c]),
                 *(round(float(v), 2) for v in self.principal_px[c]),
                 *(round(float(v), 3) for v in self.principal_pct[c]))
                for c, name in enumerate(self.cameras)]
        out = [format_table(rows, ["camera", "rotation (deg)", "centre (cm)", "fx (px)",
                                   "fy (px)", "fx (%)", "fy (%)", "cx (px)", "cy (px)",
                                   "cx (% width)", "cy (% height)"])]
        if ext:
            out.append(format_table(
                [(f"{a}-{b}", round(float(v), 3))
                 for (a, b), v in zip(self.pairs, self.relative_rotation_deg)],
                ["pair", "relative rotation (deg)"]))
        if self.fit_a is not None:
            out.append(format_table(
                [(name, int(self.fit_a.count[c]), *_fit_cells(self.fit_a, c),
                  *_fit_cells(self.fit_b, c)) for c, name in enumerate(self.cameras)],
                ["camera", "joints", "A held-out (px)", "A offset x, y (px)",
                 "B held-out (px)", "B offset x, y (px)"]))
        out.append("\n".join(f"{k}: {v}" for k, v in self.summary().items()))
        return "\n\n".join(out)

    def summary(self) -> dict:
        """The headline figures: means and maxima over cameras and pairs."""
        s = {"cameras compared": len(self.cameras)}
        if self.rotation_deg is not None:
            s["relative rotation, mean / max (deg)"] = (
                f"{self.relative_rotation_deg.mean():.3f} / {self.relative_rotation_deg.max():.3f}")
            s["centres after alignment, mean / max (cm)"] = (
                f"{100 * self.centre_error_m.mean():.2f} / {100 * self.centre_error_m.max():.2f}")
            s["scale (b to a)"] = f"{self.scale:.6g}"
            s["Z axes, angle between (deg)"] = f"{self.up_deg:.2f}"
            s["alignment"] = self.alignment
        if self.fit_a is not None:
            s["held-out reprojection, median over cameras A / B (px)"] = (
                f"{np.nanmedian(self.fit_a.median_px):.1f} / "
                f"{np.nanmedian(self.fit_b.median_px):.1f}")
        s["focal, max |difference| (%)"] = f"{np.abs(self.focal_pct).max():.3f}"
        s["principal point, max |difference| (px)"] = f"{np.abs(self.principal_px).max():.2f}"
        for i, note in enumerate(self.notes):
            s[f"note {i + 1}"] = note
        return s

    def to_dict(self) -> dict:
        """Plain JSON-ready values (lists and floats; None where not compared)."""
        ext = self.rotation_deg is not None
        per_camera = [{
            "camera": name,
            "rotation_deg": float(self.rotation_deg[c]) if ext else None,
            "centre_error_m": float(self.centre_error_m[c]) if ext else None,
            "focal_px": self.focal_px[c].tolist(), "focal_pct": self.focal_pct[c].tolist(),
            "principal_point_px": self.principal_px[c].tolist(),
            "principal_point_pct": self.principal_pct[c].tolist(),
            **({} if self.fit_a is None else {
                f"held_out_{k}": {"median_px": _finite(f.median_px[c]),
                                  "offset_px": [_finite(v) for v in f.offset_px[c]],
                                  "joints": int(f.count[c])}
                for k, f in (("a", self.fit_a), ("b", self.fit_b))})}
            for c, name in enumerate(self.cameras)]
        pairs = [{"cameras": list(p), "relative_rotation_deg": float(v)}
                 for p, v in zip(self.pairs, self.relative_rotation_deg)] if ext else []
        return {"cameras": per_camera, "pairs": pairs, "scale": self.scale, "up_deg": self.up_deg,
                "alignment": self.alignment, "only_a": self.only_a, "only_b": self.only_b,
                "notes": self.notes}


def compare_calibrations(a: Cameras, b: Cameras, keypoints=None) -> CalibrationComparison:
    """Compare calibration b with the reference a on the cameras both hold (by name).

    a, b: calibrations of any format (`load_calibration`); extrinsics (`cam_from_world`, a in
    metres, b in any unit) are compared when both have them and share 2 or more cameras,
    intrinsics always. keypoints: a Keypoints2D of a recording by these cameras (any number of
    people): both are also checked against its joints (module doc; needs extrinsics and 3 of
    its cameras in both). Returns a CalibrationComparison. Raises InputError when no camera name
    is shared, or when the keypoints name no shared camera or cannot be checked.

    Example:
        >>> R = np.stack([np.eye(3)] * 3); t = np.array([[0, 0, 4.0], [1, 0, 4], [0, 1, 4]])
        >>> K = np.tile([[1000.0, 0, 640], [0, 1000, 360], [0, 0, 1]], (3, 1, 1))
        >>> a = Cameras(["c1", "c2", "c3"], [[1280, 720]] * 3, K, np.zeros((3, 5)), R, t)
        >>> b = Cameras(["c1", "c2", "c3"], [[1280, 720]] * 3, K, np.zeros((3, 5)), R, 2 * t)
        >>> cmp = compare_calibrations(a, b)
        >>> round(cmp.scale, 6), float(cmp.centre_error_m.max()) < 1e-9
        (0.5, True)
    """
    common = [n for n in a.names if n in b.names]
    if not common:
        raise InputError(f"the calibrations share no camera name (a has {', '.join(a.names)}; "
                         f"b has {', '.join(b.names)})")
    a_, b_ = a.select(common), b.select(common)
    focal_a = np.stack([a_.K[:, 0, 0], a_.K[:, 1, 1]], -1)
    focal = np.stack([b_.K[:, 0, 0], b_.K[:, 1, 1]], -1) - focal_a
    principal = b_.K[:, :2, 2] - a_.K[:, :2, 2]
    result = CalibrationComparison(
        common, [n for n in a.names if n not in b.names], [n for n in b.names if n not in a.names],
        focal, 100 * focal / focal_a, principal, 100 * principal / a_.image_size)
    differ = [n for c, n in enumerate(common)
              if not np.array_equal(a_.image_size[c], b_.image_size[c])]
    if differ:
        result.notes.append(f"image sizes differ for {', '.join(differ)} (principal points "
                            "compared as given)")
    if not (a.has_extrinsics and b.has_extrinsics):
        which = " and ".join(x for x, c in (("a", a), ("b", b)) if not c.has_extrinsics)
        if keypoints is not None:
            raise InputError(f"{which} holds intrinsics only: checking it against keypoints "
                             "needs each camera's rotation and translation")
        result.notes.append(f"{which} holds intrinsics only: rotations and centres not compared")
        return result
    if len(common) < 2 and keypoints is None:
        result.notes.append("only one shared camera: rotations and centres not compared")
        return result
    if keypoints is not None:
        _fit_keypoints(result, a_, b_, keypoints)  # refuses fewer than 3 shared cameras
    _compare_extrinsics(result, a_, b_)
    return result


def _fit_keypoints(result: CalibrationComparison, a: Cameras, b: Cameras, keypoints) -> None:
    """Fill result.fit_a, fit_b from `keypoints`, on the cameras it shares with both."""
    from epicap.geometry.rig_metrics import held_out_fit

    shared = [n for n in result.cameras if n in keypoints.cameras]
    if len(shared) < 3:
        raise InputError(f"the keypoints' cameras ({', '.join(keypoints.cameras)}) share "
                         f"{len(shared)} with both calibrations; a held-out check needs 3")
    kp = keypoints.keypoints[[keypoints.camera_index(n) for n in shared]]
    kp = kp.reshape(len(shared), -1, 3)
    fits = [held_out_fit(kp[..., :2], kp[..., 2], c.K, c.R, c.t, c.dist)
            for c in (a.select(shared), b.select(shared))]
    has = np.isin(result.cameras, shared)  # shared keeps result.cameras' order
    result.fit_a, result.fit_b = (_spread(f, has) for f in fits)
    if not has.all():
        result.notes.append("the keypoints lack " + ", ".join(
            n for n in result.cameras if n not in shared) + ": not checked against them")


def _spread(fit: HeldOutFit, has: np.ndarray) -> HeldOutFit:
    """`fit` of the cameras where `has` (C,) is True laid out over all C (NaN, 0 elsewhere)."""
    C = len(has)
    median, offset, count = np.full(C, np.nan), np.full((C, 2), np.nan), np.zeros(C, np.int64)
    median[has], offset[has], count[has] = fit.median_px, fit.offset_px, fit.count
    return HeldOutFit(median, offset, count)


def _fit_cells(fit: HeldOutFit, c: int) -> tuple:
    if not np.isfinite(fit.median_px[c]):
        return (None, None)
    return (round(float(fit.median_px[c]), 1),
            f"{fit.offset_px[c, 0]:+.1f}, {fit.offset_px[c, 1]:+.1f}")


def _finite(v) -> float | None:
    return float(v) if np.isfinite(v) else None


def _compare_extrinsics(result: CalibrationComparison, a: Cameras, b: Cameras) -> None:
    C = len(a)
    pairs = [(i, j) for i in range(C) for j in range(i + 1, C)]
    rel_a = np.stack([a.R[j] @ a.R[i].T for i, j in pairs])
    rel_b = np.stack([b.R[j] @ b.R[i].T for i, j in pairs])
    result.pairs = [(a.names[i], a.names[j]) for i, j in pairs]
    result.relative_rotation_deg = rotation_angle_deg(np.einsum("pji,pjk->pik", rel_a, rel_b))
    # world_a <- world_b: the projection of sum_c R_a^T R_b onto SO(3)
    U, _, Vt = np.linalg.svd(np.einsum("cji,cjk->ik", a.R, b.R))
    Q = U @ np.diag([1.0, 1.0, np.sign(np.linalg.det(U @ Vt))]) @ Vt
    result.rotation_deg = rotation_angle_deg(np.einsum("cji,cjk,lk->cil", a.R, b.R, Q))
    c_a, c_b = camera_centers(a.R, a.t), camera_centers(b.R, b.t)
    try:
        if C < 3:
            raise GeometryError("two cameras")
        s, rotation, shift = umeyama(c_b, c_a)
        result.alignment = "similarity of the centres (Umeyama)"
    except GeometryError:
        rotation = Q
        d_a, d_b = c_a - c_a.mean(0), (c_b - c_b.mean(0)) @ Q.T
        s = float((d_a * d_b).sum() / max((d_b ** 2).sum(), 1e-300))
        shift = c_a.mean(0) - s * Q @ c_b.mean(0)
        result.alignment = ("common camera rotation, least-squares scale and shift (the centres "
                            "alone cannot fix a rotation: " +
                            ("two cameras)" if C < 3 else "they lie on one line)"))
    aligned = s * c_b @ rotation.T + shift
    result.centre_error_m = np.linalg.norm(aligned - c_a, axis=1)
    result.scale = float(s)
    result.up_deg = z_angle_deg(rotation)
