"""Pure, batched geometry on arrays: no files, no printing, no global state.

Conventions (the one place they are written down; every module follows them):

- 3D points in metres, as column vectors. A camera maps a world point X to its own frame by
  `x_cam = R @ X + t` (`cam_from_world`); the camera centre is `C = -R.T @ t`.
- Camera axes are OpenCV's: x right, y down, z forward (the viewing direction).
- Pixels are in the original (distorted) image, x right, y down, the centre of the top-left pixel at
  (0, 0). A pixel is `K @ distort(x_cam / z)` with OpenCV's distortion k1 k2 p1 p2 [k3].
- "Normalized" image coordinates are undistorted `x_cam[:2] / z` (K^-1 applied, distortion removed).
- Rotations travel as 3x3 matrices; Rodrigues vectors only at file boundaries.
- Dimension letters: C cameras, T frames, J joints, N points, B batch.
- Missing 2D or 3D values are NaN (with confidence 0); functions propagate NaN rather than zeros.
- Solvers work in float64 internally.

The world frame of a calibration-free solve is Z up, the floor at z = 0 (see calibration_free).
"""
