"""What a calibration returns and how it is shown: per-camera reports, warnings, the table."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from epicap.session import Cameras

__all__ = ["CameraReport", "CalibrationResult"]


@dataclass
class CameraReport:
    """One camera's part in a calibration.

    frames: adjusted frames in which it saw joints. joints: joint observations it contributed.
    inliers: observations kept by the final robust round. rms_px: their RMS reprojection error.
    focal_px: its focal length. coverage: share of all frames in which it sees the subject.
    excluded: why it was not calibrated, or None.
    """

    name: str
    frames: int
    joints: int
    inliers: int
    rms_px: float
    focal_px: float
    coverage: float
    excluded: str | None = None


@dataclass
class CalibrationResult:
    """Cameras calibrated from the people in view, and what happened.

    cameras: the calibrated cameras in the world frame (excluded cameras are absent).
    reports: one CameraReport per input camera. excluded: {camera name: reason}.
    warnings: messages a user can act on. rms_px: overall RMS reprojection error.
    world: the WorldFrame (scale, floor). points3d: (F, J, 3) joints of the adjusted frames,
    world frame. frames: (F,) their indices in the session. method: the method used.
    pairs: {(name_i, name_j): PairGeometry} of the pooled pair estimates.
    people_heights_m: with several people, {person id: height in metres measured from the limbs
    in the calibrated frame} (person 0's sets the scale); None for one person.
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

    def table(self) -> str:
        """The per-camera table (Markdown) the command prints."""
        from epicap.console import format_table

        rows = []
        for r in self.reports:
            rows.append([r.name, r.frames, r.joints, r.inliers,
                         None if not np.isfinite(r.rms_px) else round(r.rms_px, 2),
                         f"{r.focal_px:.1f}", f"{100 * r.coverage:.0f}%",
                         "excluded" if r.excluded else "ok"])
        return format_table(rows, ["camera", "frames", "joints", "inliers", "rms px", "focal px",
                                   "in view", "status"])

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
                + self._people_text())

    def _people_text(self) -> str:
        """With several people: their heights as measured (the first one's sets the scale)."""
        if not self.people_heights_m:
            return ""
        names = list(self.people_heights_m)
        return ("; calibrated from " + f"{len(names)} people, heights measured "
                + ", ".join(f"{n} {h:.2f} m" for n, h in self.people_heights_m.items())
                + f" ({names[0]}'s given)")
