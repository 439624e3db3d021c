"""Every camera's pose (and focal length), metric scale and the floor, from the people in view.

    from epicap.calibration_free import calibrate, CalibrationOptions
    result = calibrate(keypoints, intrinsics=None, options=CalibrationOptions(shared_focal=True))
    result.cameras.to_toml("cameras.toml"); print(result.table())

Modules: `pairs` (pooled essential matrix per camera pair), `register` (best pair + PnP),
`focal` (focal lengths from fundamental matrices), `focal_search` (a shared focal
length by a 1-D search over whole solves), `world` (floor, up, scale, origin),
`pipeline` (`calibrate`), `report` (results and the table).
"""
from epicap.calibration_free.pipeline import METHODS, CalibrationOptions, calibrate
from epicap.calibration_free.report import CalibrationResult, CameraReport

__all__ = ["calibrate", "CalibrationOptions", "CalibrationResult", "CameraReport", "METHODS"]
