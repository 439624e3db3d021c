"""Shared fixtures: cheap synthetic scenes and sessions with known truth (`epicap.synthetic`).

`synthetic_scene`: the embedded walk clip, 60 frames at 30 fps, coco17, seen by a 4-camera ring
(radius 5 m, height 1.6 m, f = 1000 px, 1280x720; every joint in every image), 1 px noise,
nothing else. `synthetic_session`:
the same scene written to a session folder (no video). `make_synthetic_scene(**kw)`: a factory
for other settings, e.g. `make_synthetic_scene(num_cameras=8, noise_px=2, outlier_fraction=0.1)`.
"""
from __future__ import annotations

import pytest


def build_scene(clip: str = "walk", num_frames: int = 60, fps: float = 30.0,
                joint_set: str = "coco17", num_cameras: int = 4, radius_m: float = 5.0,
                height_m: float = 1.6, focal_px: float = 1000.0,
                image_size: tuple[int, int] = (1280, 720), jitter_deg: float = 0.0,
                jitter_m: float = 0.0, seed: int = 0, **scene_options):
    """A SyntheticScene; keyword arguments not named here go to SceneOptions."""
    from epicap.synthetic import SceneOptions, load_clip, make_scene, ring_rig

    motion = load_clip(clip, joint_set=joint_set, fps=fps, num_frames=num_frames)
    cameras = ring_rig(num_cameras, radius_m, height_m, focal_px, image_size,
                       jitter_deg=jitter_deg, jitter_m=jitter_m, seed=seed)
    scene_options.setdefault("noise_px", 1.0)
    return make_scene(motion, cameras, SceneOptions(seed=seed, **scene_options))


@pytest.fixture
def make_synthetic_scene():
    """Factory: make_synthetic_scene(**kw) -> SyntheticScene (see build_scene)."""
    return build_scene


@pytest.fixture
def synthetic_scene():
    """4 cameras, walk, 60 frames, coco17, 1 px noise (see the module docstring)."""
    return build_scene()


@pytest.fixture
def synthetic_session(tmp_path, synthetic_scene):
    """`synthetic_scene` written to tmp_path / "session"; returns the folder (a Path)."""
    from epicap.synthetic import write_session

    return write_session(synthetic_scene, tmp_path / "session")


@pytest.fixture(scope="session")
def demo_qca(tmp_path_factory):
    """The Pose2Sim single-person demo's real Qualisys calibration (Calib.qca.txt), read from the
    pinned pose2sim 0.10.49 wheel; skipped when the wheel is not in epicap's cache."""
    from epicap.assets import WHEELS, cache_dir, fetch_wheel, read_member

    if not (cache_dir() / "wheels" / WHEELS["pose2sim-0.10.49"].filename).is_file():
        pytest.skip("Pose2Sim wheel not in the cache")
    path = tmp_path_factory.mktemp("qca") / "Calib.qca.txt"
    path.write_bytes(read_member(fetch_wheel("pose2sim-0.10.49"),
                                 "Pose2Sim/Demo_SinglePerson/calibration/Calib.qca.txt"))
    return path
