"""Small several-person sessions (synthetic, known truth) for the stages after matching."""
from __future__ import annotations

import shutil
from pathlib import Path

from epicap.synthetic import ring_rig, write_session
from epicap.synthetic.people import PeopleOptions, make_people_scene

FRAMES = 24


def people_scene(num_people: int = 3, frames: int = FRAMES, seed: int = 2):
    """A PeopleScene of `num_people` walking round each other, 4 cameras, no planted swaps."""
    cams = ring_rig(4, 6.0, 2.0, 1000.0, (1280, 720))
    return make_people_scene(cams, frames, PeopleOptions(num_people=num_people, swap_fraction=0.0,
                                                         seed=seed))


def triangulated_session(folder: Path, num_people: int = 3, frames: int = FRAMES,
                         seed: int = 2) -> tuple[Path, object]:
    """A session folder with keypoints2d.npz (people matched), the true cameras.toml and
    poses3d.npz triangulated from them; returns (folder, scene)."""
    from epicap.pipeline.triangulate import triangulate_session

    scene = people_scene(num_people, frames, seed)
    write_session(scene, folder)
    shutil.copy(folder / "truth" / "cameras.toml", folder / "cameras.toml")
    triangulate_session(folder, folder / "cameras.toml")
    return folder, scene
