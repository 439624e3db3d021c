"""What a calibration returns and how it is shown: per-camera reports, warnings, the table."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from epicap.session import Cameras

__all__ = ["CameraReport", "CalibrationResult", "FEW_INLIERS", "few_inliers_warning"]

# A calibrated camera keeping fewer of its checked joints (those three cameras or more see) as
# inliers of the last adjustment than this is flagged. Measured: sound cameras keep 0.72-0.94 on
# the real Pose2Sim videos and 0.73-0.96 on 40 random synthetic rigs of 3-12 cameras (2 px, 10%
# outliers), except two cameras that see little (upper body only, part of the time; 0.52-0.56).
# On the Pose2Sim two-person videos with the legs painted out, where the people come out matched
# wrongly across cameras and the rig 87-102 deg off, the cameras keep 0.46-0.62, one or more of
# them under 0.5; on a synthetic ring, one camera that follows another person than the other
# three keeps 0.10-0.17 (rig 19-77 deg off), and cameras split half and half between two people
# keep 0.14-0.43 but for one camera at 0.64 (rig 25-118 deg off). Not caught: a camera synced a
# gait cycle off while the people walk a circle (they are then where a turned camera would see
# them, and the wrong rig fits).
FEW_INLIERS = 0.5
MIN_CHECKED = 50  # observations seen by three cameras or more a camera needs to be judged


@dataclass
class CameraReport:
    """One camera's part in a calibration.

    frames: adjusted frames in which it saw joints. joints: joint observations it contributed.
    inliers: observations kept by the final robust round. rms_px: their RMS reprojection error.
    focal_px: its focal length. coverage: share of all frames in which it sees the subject.
    excluded: why it was not calibrated, or None.
    estimated: the intrinsics the calibration estimated ("focal", "principal point", "k1",
    "k2"); empty when they were given. The others were assumed: principal point at the image
    centre, no distortion. principal_point: (2,) cx, cy pixels. dist: (5,) k1 k2 p1 p2 k3.
    spread: (5,) standard deviations of fx, cx, cy (pixels), k1, k2 (the larger of the
    adjustment's covariance and a bootstrap's); NaN where not estimated; None when not measured.
    turn_deg: how well its turn relative to the other cameras is fixed, degrees (root mean
    square over them, from the adjustment's covariance); NaN when not measured.
    checked: its observations of joints that three or more calibrated cameras see (where its
    reprojection tests it against the others), checked_inliers: the inliers among them; -1
    when not counted.
    """

    name: str
    frames: int
    joints: int
    inliers: int
    rms_px: float
    focal_px: float
    coverage: float
    excluded: str | None = None
    estimated: tuple = ()
    principal_point: np.ndarray | None = None
    dist: np.ndarray | None = None
    spread: np.ndarray | None = None
    turn_deg: float = float("nan")
    checked: int = -1
    checked_inliers: int = -1

    @property
    def inlier_share(self) -> float:
        """checked_inliers / checked: the share of its joints seen by three cameras or more
        that fit the rig (a sound camera keeps 0.7 or more); NaN when not counted or none."""
        return self.checked_inliers / self.checked if self.checked > 0 else float("nan")

    @property
    def few_inliers(self) -> bool:
        """A calibrated camera most of whose joints do not fit the rig (`FEW_INLIERS`)."""
        return (not self.excluded and self.checked >= MIN_CHECKED
                and self.inlier_share < FEW_INLIERS)

    def status(self) -> str:
        """The table's status cell: "ok", "excluded" or "few inliers (N%)"."""
        if self.excluded:
            return "excluded"
        return f"few inliers ({self.inlier_share:.0%})" if self.few_inliers else "ok"

    def intrinsics_cells(self) -> list[str]:
        """Table cells: focal, principal point, k1 and k2 where not 0 (each "value ± spread" when
        estimated and measured), and which intrinsics were estimated or assumed."""
        spread = np.full(5, np.nan) if self.spread is None else np.asarray(self.spread)
        pm = lambda s, fmt: f" ± {s:{fmt}}" if np.isfinite(s) else ""  # noqa: E731
        pp = self.principal_point
        dist = np.zeros(5) if self.dist is None else self.dist
        cells = [f"{self.focal_px:.1f}" + pm(spread[0], ".1f"),
                 "" if pp is None else f"{pp[0]:.1f}{pm(spread[1], '.1f')}, "
                                       f"{pp[1]:.1f}{pm(spread[2], '.1f')}",
                 f"{dist[0]:+.3f}" + pm(spread[3], ".3f")
                 + (f", k2 {dist[1]:+.3f}" + pm(spread[4], ".3f") if dist[1] != 0 else "")]
        if not self.estimated:
            return cells + ["given"]
        assumed = [name for name, what in (("centred pp", "principal point"), ("k1 = 0", "k1"),
                                           ("k2 = 0", "k2"))
                   if what not in self.estimated]
        text = "estimated: " + ", ".join(self.estimated)
        return cells + [text + ("; assumed: " + ", ".join(assumed) if assumed else "")]


@dataclass
class CalibrationResult:
    """Cameras calibrated from the people in view, and what happened.

    cameras: the calibrated cameras in the world frame (excluded cameras are absent).
    reports: one CameraReport per input camera. excluded: {camera name: reason}.
    warnings: messages a user can act on. rms_px: overall RMS reprojection error.
    world: the WorldFrame (scale, floor). points3d: (F, J, 3) joints of the adjusted frames,
    world frame. frames: (F,) their indices in the session. method: the method used.
    pairs: {(name_i, name_j): PairGeometry} of the pooled pair estimates.
    people_heights_m: with several people, {person id: height in metres measured in the
    calibrated frame, standing or from the limbs (`world.person_height`)}, the one whose given
    height set the scale first; None for one person.
    intrinsics_check: with unknown intrinsics, the held-out test that decided whether the
    estimated principal points and distortion were kept (`intrinsics.IntrinsicsCheck`) or None;
    k2_check: the one that then decided whether k2 was estimated beside k1, or None.
    timing: with `CalibrationOptions.refine_timing`, how far the keypoints' timeline was off per
    camera, refined with the cameras (`timing.TimingRefinement`), or None.
    turn_spread_deg: how well the data fix the cameras' relative turns: the root mean square
    over camera pairs of the standard angle error, degrees, from the last adjustment's
    covariance (`bundle_adjustment.adjustment_spread`); NaN when not measured.
    """

    cameras: Cameras
    reports: list[CameraReport]
    excluded: dict[str, str]
    warnings: list[str]
    rms_px: float
    world: object
    points3d: np.ndarray
    frames: np.ndarray
    method: str
    pairs: dict = field(default_factory=dict)
    people_heights_m: dict | None = None
    intrinsics_check: object | None = None
    turn_spread_deg: float = float("nan")
    k2_check: object | None = None
    timing: object | None = None

    def table_rows(self) -> tuple[list[str], list[list]]:
        """(header, rows) of the per-camera table: one row per camera, None for an empty cell."""
        rows = []
        for r in self.reports:
            rows.append([r.name, r.frames, r.joints, r.inliers,
                         None if not np.isfinite(r.rms_px) else round(r.rms_px, 2),
                         None if not np.isfinite(r.turn_deg) else round(r.turn_deg, 2),
                         *r.intrinsics_cells(), f"{100 * r.coverage:.0f}%",
                         r.status()])
        return (["camera", "frames", "joints", "inliers", "rms px", "turn ± deg", "focal px",
                 "cx, cy px", "k1 (k2)", "intrinsics", "in view", "status"], rows)

    def table(self) -> str:
        """The per-camera table (Markdown) the command prints."""
        from epicap.console import format_table

        header, rows = self.table_rows()
        return format_table(rows, header)

    def save_record(self, session, cameras_file, advice: list[str] = ()) -> None:
        """Write `calibration.toml` into `session`: this table, summary and warnings (then the
        `advice` printed beside them, e.g. on the recording's length), for the cameras just
        written to `cameras_file` (`epicap.session.calibration_record`)."""
        from pathlib import Path

        from epicap.session.calibration_record import (CALIBRATION_RECORD_FILE,
                                                       write_calibration_record)

        header, rows = self.table_rows()
        write_calibration_record(Path(session) / CALIBRATION_RECORD_FILE, cameras_file, header,
                                 rows, self.summary(), [*self.warnings, *advice])

    def summary(self) -> str:
        """One paragraph: cameras calibrated, RMS error, scale and floor."""
        w = self.world
        if w.floor_from == "initial":
            return (f"{len(self.cameras)} of {len(self.reports)} cameras refined, RMS "
                    f"reprojection error {self.rms_px:.2f} px; the world frame and unit of the "
                    f"calibration refined are kept")
        return (f"{len(self.cameras)} of {len(self.reports)} cameras calibrated ({self.method}), "
                f"RMS reprojection error {self.rms_px:.2f} px; subject height "
                f"{w.height_solve * w.scale:.2f} m (measured from "
                f"{getattr(w, 'height_from', 'limbs')}) sets the scale; {w.describe()}"
                + self._turn_text() + self._people_text() + self._intrinsics_text()
                + ("" if self.timing is None else "; " + self.timing.describe()))

    def _turn_text(self) -> str:
        """How well the data fix the cameras' relative turns, when measured."""
        if not np.isfinite(self.turn_spread_deg):
            return ""
        return (f"; relative turns fixed to ± {self.turn_spread_deg:.2f} deg by the joints' noise "
                "(root mean square over camera pairs, from the adjustment's covariance; a "
                "detector's bias adds to it)")

    def _intrinsics_text(self) -> str:
        """With unknown intrinsics: whether the principal points and distortion were estimated."""
        check = self.intrinsics_check
        if check is None:
            return ""
        if check.implausible:
            return (f"; principal points at the image centres and no distortion assumed "
                    f"(estimating them fitted held-out joints better, {check.free_px:.2f} px "
                    f"against {check.fixed_px:.2f} px, but {check.implausible})")
        if check.kept and check.free_px >= check.fixed_px:
            return (f"; principal points and distortion estimated (held-out joints cannot tell: "
                    f"{check.free_px:.2f} px, {check.fixed_px:.2f} px with them assumed, sign "
                    f"test z {check.sign_z:.1f}; the centred model would carry the lens in its "
                    "focal lengths and turns)" + self._k2_text())
        if check.kept:
            return (f"; principal points and distortion estimated (held-out joints reproject "
                    f"{check.free_px:.2f} px, {check.fixed_px:.2f} px with them assumed)"
                    + self._k2_text())
        return (f"; principal points at the image centres and no distortion assumed (estimating "
                f"them fitted held-out joints no better: {check.free_px:.2f} px against "
                f"{check.fixed_px:.2f} px, sign test z {check.sign_z:.1f})")

    def _k2_text(self) -> str:
        """Whether k2 was estimated beside k1 (`intrinsics.free_intrinsics`), when tested."""
        k2 = self.k2_check
        if k2 is None:
            return ""
        if k2.implausible:
            return (f"; k2 = 0 assumed (estimating it fitted held-out joints better, "
                    f"{k2.free_px:.2f} px against {k2.fixed_px:.2f} px with k1 alone, but "
                    f"{k2.implausible})")
        if k2.kept:
            return (f"; k2 estimated beside k1 (held-out joints {k2.free_px:.2f} px against "
                    f"{k2.fixed_px:.2f} px with k1 alone, sign test z {k2.sign_z:.1f})")
        return (f"; k2 = 0 assumed (held-out joints fitted no better with it: {k2.free_px:.2f} px "
                f"against {k2.fixed_px:.2f} px with k1 alone, sign test z {k2.sign_z:.1f})")

    def _people_text(self) -> str:
        """With several people: their heights measured in the calibrated frame (the first one's
        given height set the scale; measured again, it comes out a little off that)."""
        if not self.people_heights_m:
            return ""
        heights = [f"{n} {h:.2f} m" for n, h in self.people_heights_m.items()]
        given = self.world.height_solve * self.world.scale
        heights[0] += f" (the {given:.2f} m given set the scale)"
        return (f"; calibrated from {len(heights)} people, heights (standing, else from the "
                "limbs) " + ", ".join(heights))


def few_inliers_warning(reports: list[CameraReport]) -> str | None:
    """The warning for the calibrated cameras most of whose joints do not fit the rig, or None.

    Such a camera usually follows other people than the cameras it is paired with (people
    matched wrongly across cameras: when the legs are cut off, or in a recording too short to
    tell the people apart by their joints), or its detector fails there; the rig can then be
    far off although each camera's RMS error (over its inliers) looks normal."""
    few = [r for r in reports if r.few_inliers]
    if not few:
        return None
    which = ", ".join(f"{r.name} {r.inlier_share:.0%}" for r in few)
    return (f"only part of the joints fit the calibrated rig ({which} of them, where sound "
            f"cameras keep 70% or more; under {FEW_INLIERS:.0%} is flagged): the rig is "
            "probably off; most often the cameras do not all follow the same people (people "
            "matched wrongly across cameras, e.g. with the legs cut off or in a short "
            "recording), or the detector fails there; look at the overlays of `epicap report` "
            "(who is who in each camera) before trusting it")
