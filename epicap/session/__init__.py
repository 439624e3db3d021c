"""A session is a folder. Its three interface files (`keypoints2d.npz`, `cameras.toml`,
`poses3d.npz`) are read and written here, validated on load, and written atomically."""
from epicap.session.cameras import Cameras
from epicap.session.keypoints2d import Keypoints2D
from epicap.session.poses3d import Poses3D

KEYPOINTS_FILE = "keypoints2d.npz"
CAMERAS_FILE = "cameras.toml"
POSES_FILE = "poses3d.npz"

__all__ = ["Cameras", "Keypoints2D", "Poses3D", "KEYPOINTS_FILE", "CAMERAS_FILE", "POSES_FILE"]
