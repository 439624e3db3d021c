"""Sessions out to the tools labs already use, each with a reader for its round-trip test.

- `trc`: OpenSim's marker file (Y up, metres or millimetres as the header declares).
- `c3d`: the biomechanics standard (a minimal writer and reader of float C3D, Z up, millimetres).
- `colmap`: a pycolmap `Reconstruction` (cameras, one image per camera, the joints as points).
- `jsonfmt`: plain JSON of the cameras and the poses.
- `calibration`: Pose2Sim / Anipose calibration TOML, both directions.

Conversions of axes happen here only; the session's world frame stays Z up, metres.
"""
