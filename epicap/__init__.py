"""epicap: metric 3D human-pose labels from synchronized cameras, calibrated by the people in
view (no board, no extrinsics, no motion capture), and a monocular 3D student trained on them."""

__version__ = "0.1.0"
