"""The bad-input matrix's building blocks: a `Workspace` that makes a case's inputs, the `Case`
record (verb x fault -> command line and expected outcome), the fault names and small helpers.

`Workspace` makes sessions (`session()` with cameras, 2D and 3D; `synth()` a synthetic one),
OpenPose folders, COCO files, keypoints .npz files, videos and broken variants of each file.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

FAULTS = ("missing", "empty", "truncated", "wrong-shape", "nan", "one-camera", "frame-counts",
          "non-utf8", "spaces", "read-only", "full-disk", "exists", "bad-option")


class Workspace:
    """A scratch folder and the inputs the cases are built from (all small: seconds to make)."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, *parts: str) -> str:
        return str(self.root.joinpath(*parts))

    def mkdir(self, name: str) -> str:
        """The folder `name` in the workspace, made if needed."""
        (self.root / name).mkdir(parents=True, exist_ok=True)
        return self.path(name)

    # ---- sessions -----------------------------------------------------------------------------
    def session(self, name: str = "s", T: int = 6, keypoints: bool = True) -> Path:
        """cameras.toml (4 cameras), poses3d.npz (h36m17) and keypoints2d.npz."""
        from tests.viz.session_factory import make_session

        return make_session(self.root / name, T=T, with_keypoints=keypoints)

    def synth(self, name: str = "syn", cameras: int = 2, frames: int = 8) -> Path:
        """A synthetic session (session.toml, keypoints2d.npz, truth/)."""
        from epicap.cli import main

        assert main(["synth", "--out", self.path(name), "--cameras", str(cameras), "--frames",
                     str(frames), "--quiet"]) == 0
        return self.root / name

    def one_camera_session(self, name: str = "one") -> Path:
        from epicap.session import CAMERAS_FILE, POSES_FILE, Cameras
        from tests.viz.session_factory import four_cameras, stick_figure

        root = self.root / name
        root.mkdir(parents=True)
        four_cameras().select(["cam02"]).to_toml(root / CAMERAS_FILE)
        stick_figure(4).save(root / POSES_FILE)
        assert len(Cameras.from_toml(root / CAMERAS_FILE)) == 1
        return root

    def nan_poses_session(self, name: str = "nan") -> Path:
        """A session whose 3D poses are NaN everywhere (nothing triangulated)."""
        from epicap.session import POSES_FILE, Poses3D

        root = self.session(name, keypoints=False)
        p = Poses3D.from_npz(root / POSES_FILE)
        p.poses[:] = np.nan
        p.reprojection_error[:] = np.nan
        p.views[:] = 0
        p.save(root / POSES_FILE)
        return root

    def replace(self, session: Path, name: str, data: bytes | str) -> Path:
        path = Path(session) / name
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        return Path(session)

    def wrong_shape_poses(self, name: str = "ws") -> Path:
        from epicap.session import POSES_FILE

        root = self.session(name, keypoints=False)
        with np.load(root / POSES_FILE) as z:
            arrays = dict(z)
        arrays["poses"] = arrays["poses"][:, :5]  # 5 joints under h36m17's 17 names
        np.savez(root / POSES_FILE, **arrays)
        return root

    # ---- 2D keypoints from other tools -----------------------------------------------------
    def keypoints_npz(self, name: str = "kp.npz", **change) -> str:
        """A keypoints2d.npz (2 cameras of coco17) with arrays replaced by `change`."""
        from epicap.joint_sets import get_joint_set

        rng = np.random.default_rng(0)
        kp = np.concatenate([rng.uniform(0, 600, (2, 5, 17, 2)), np.full((2, 5, 17, 1), 0.9)],
                            -1).astype(np.float32)
        arrays = {"keypoints": kp, "cameras": np.array(["cam01", "cam02"]),
                  "joints": np.array(get_joint_set("coco17").joints),
                  "joint_set": np.array("coco17"), "image_size": np.tile([640, 480], (2, 1)),
                  "fps": np.array(30.0), **change}
        np.savez(self.root / name, **arrays)
        return self.path(name)

    def openpose(self, cams=("cam01", "cam02"), T=4, folder_names=None) -> list[str]:
        from tests.keypoints.test_openpose import make_session

        folders = make_session(self.root, T=T, cams=cams)
        if folder_names is not None:
            renamed = []
            for f, new in zip(folders, folder_names):
                target = os.path.join(os.fsencode(self.root), new)
                os.rename(os.fsencode(f), target)
                renamed.append(os.fsdecode(target))
            return renamed
        return [str(f) for f in folders]

    def openpose_frames(self, name: str, frames: dict[str, bytes | str]) -> str:
        folder = self.root / name
        folder.mkdir(parents=True)
        for fname, data in frames.items():
            (folder / fname).write_bytes(data.encode() if isinstance(data, str) else data)
        return str(folder)

    def coco(self, name: str = "cam01.json", doc=None) -> str:
        from tests.keypoints.test_coco_json import coco_results

        (self.root / name).write_text(json.dumps(coco_results(T=5) if doc is None else doc))
        return self.path(name)

    def file(self, name: str, data: bytes = b"") -> str:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return str(path)

    # ---- videos -------------------------------------------------------------------------------
    def video(self, name: str = "cam01.mp4", frames: int = 6, fourcc: str = "mp4v",
              noise: bool = False) -> str:
        from tests.capture.test_video import make_video

        path = os.path.join(os.fsencode(self.root), os.fsencode(name))
        tmp = self.root / f"tmp{Path(os.fsdecode(name)).suffix}"
        make_video(tmp, frames, (64, 48), 25, fourcc=fourcc, noise=noise)
        os.rename(tmp, path)
        return os.fsdecode(path)

    def truncated_video(self, name: str = "cut.mp4", fourcc: str = "mp4v") -> str:
        full = Path(self.video("full" + Path(name).suffix, 30, fourcc, noise=True))
        data = full.read_bytes()
        full.unlink()
        return self.file(name, data[: len(data) // 2])


@dataclass(frozen=True)
class Case:
    """One cell of the matrix.

    verb: what is tested ("import openpose", "export trc"). fault: one of FAULTS.
    build: makes the inputs in the Workspace and returns the command line (after `epicap`).
    exit: the expected status (2: refused with one line; 0: coped with).
    message: a piece the error line must hold (exit 2) or stdout must hold (exit 0).
    read_only: a folder (relative to the workspace, made by build) to make read-only first.
    full_disk: run with every fsync and shutil copy failing with ENOSPC.
    """

    verb: str
    fault: str
    build: Callable[[Workspace], list[str]]
    exit: int = 2
    message: str = ""
    read_only: str | None = None
    full_disk: bool = False

    @property
    def id(self) -> str:
        return f"{self.verb.replace(' ', '-')}:{self.fault}:{self.message or self.exit}"[:60]


NON_UTF8 = b"cam\xff\xfe"  # a file name no UTF-8 decoder accepts (Python maps it to surrogates)
QUICK = ["--quiet"]
