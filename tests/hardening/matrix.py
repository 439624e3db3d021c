"""The bad-input matrix as data: verb x fault -> the command line and what must happen.

Each `Case` builds its inputs in a fresh folder (a `Workspace`), names the command line, and says
the expected exit status: 2 for a user's mistake (one line on stderr, no traceback, not one file
created, changed or removed anywhere in the workspace) or 0 where the fault is something a verb
must cope with (paths with spaces, one camera, cameras of different lengths).

To cover a verb that lands later (calibrate, triangulate, detect, sync, label, train, evaluate,
infer), add its cases to `CASES` below with the same faults: `missing`, `empty`, `wrong-shape`,
`nan`, `one-camera`, `frame-counts`, `non-utf8`, `spaces`, `read-only`, `full-disk`, `exists`.
`Workspace` already makes sessions (`session()` with cameras, 2D and 3D; `synth()` a synthetic
one), OpenPose folders, COCO files, videos and broken variants of each file.
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


def _mkdir(w: Workspace, name: str) -> str:
    (w.root / name).mkdir(parents=True, exist_ok=True)
    return w.path(name)


NON_UTF8 = b"cam\xff\xfe"  # a file name no UTF-8 decoder accepts (Python maps it to surrogates)
QUICK = ["--quiet"]


def _synth(out: str, *extra: str) -> list[str]:
    return ["synth", "--out", out, "--cameras", "2", "--frames", "8", *extra, *QUICK]


def _record(out: str, *cams: str, extra=()) -> list[str]:
    args = ["record", "--out", out]
    for c in cams:
        args += ["--camera", c]
    return args + ["--duration", "0.3", *extra, *QUICK]


def _export(w: Workspace, fmt: str, session: str, out: str, *extra: str) -> list[str]:
    return ["export", session, "--format", fmt, "--out", out, *extra, *QUICK]


def _existing(w: Workspace, fmt: str) -> str:
    """An existing output of `fmt` (a file; for colmap a folder holding a model file)."""
    if fmt == "colmap":
        w.file(f"{EXT[fmt]}/cameras.bin", b"mine")
        return w.path(EXT[fmt])
    return w.file(EXT[fmt], b"mine")


POSE_FORMATS = ("trc", "c3d", "json")          # read poses3d.npz
CAMERA_FORMATS = ("colmap", "pose2sim", "anipose")  # read cameras.toml
EXT = {"trc": "x.trc", "c3d": "x.c3d", "json": "x.json", "colmap": "colmap",
       "pose2sim": "Calib_x.toml", "anipose": "calibration.toml"}

CASES: list[Case] = [
    # ---- synth ------------------------------------------------------------------------------
    Case("synth", "bad-option", lambda w: _synth(w.path("o"), "--image-size", "0x0"),
         message="--image-size"),
    Case("synth", "bad-option", lambda w: ["synth", "--out", w.path("o"), "--cameras", "0"],
         message="--cameras"),
    Case("synth", "bad-option", lambda w: _synth(w.path("o"), "--offsets-frames", "1,2,3"),
         message="--offsets-frames"),
    Case("synth", "bad-option", lambda w: _synth(w.path("o"), "--fps", "nan"), message="fps"),
    Case("synth", "bad-option", lambda w: _synth(w.path("o"), "--frames", "0"), message="frames"),
    Case("synth", "bad-option", lambda w: _synth(w.path("o"), "--noise-px", "-1"),
         message="noise"),
    Case("synth", "bad-option", lambda w: _synth(w.path("o"), "--outliers", "2"),
         message="outlier"),
    Case("synth", "one-camera", lambda w: ["synth", "--out", w.path("o"), "--cameras", "1",
                                           "--frames", "5", *QUICK], exit=0, message="1 cameras"),
    Case("synth", "spaces", lambda w: _synth(w.path("my data", "a session")), exit=0,
         message="my data"),
    Case("synth", "exists", lambda w: _synth(str(w.synth("o"))), message="--force"),
    Case("synth", "read-only", lambda w: _synth(os.path.join(_mkdir(w, "ro"), "s")),
         read_only="ro"),
    Case("synth", "full-disk", lambda w: _synth(w.path("o")), full_disk=True,
         message="No space"),
    Case("synth", "full-disk", lambda w: _synth(str(w.synth("o")), "--force"), full_disk=True,
         message="No space"),
    Case("synth", "wrong-shape", lambda w: _synth(w.file("afile", b"x") + "/s"),
         message="afile"),
    # ---- record (a synthetic camera or a video file as the source) ----------------------------
    Case("record", "missing", lambda w: _record(w.path("o"), w.path("nope.mp4")),
         message="nope.mp4"),
    Case("record", "empty", lambda w: _record(w.path("o"), w.file("e.mp4"))),
    Case("record", "truncated", lambda w: _record(w.path("o"), w.truncated_video())),
    Case("record", "exists", lambda w: _record(str(w.synth("o")), "synthetic:30"),
         message="not empty"),
    Case("record", "bad-option", lambda w: _record(w.path("o"), "synthetic:30",
                                                   extra=["--names", "a", "b"]),
         message="--names"),
    Case("record", "bad-option", lambda w: _record(w.path("o"), "synthetic:30",
                                                   extra=["--names", "../up"]),
         message="camera name"),
    Case("record", "bad-option", lambda w: _record(w.path("o"), "synthetic:0")),
    Case("record", "read-only", lambda w: _record(os.path.join(_mkdir(w, "ro"), "s"),
                                                  "synthetic:30"), read_only="ro"),
    Case("record", "spaces", lambda w: _record(w.path("my data", "s 1"), "synthetic:30"),
         exit=0, message="my data"),
    # ---- ingest -------------------------------------------------------------------------------
    Case("ingest", "missing", lambda w: ["ingest", "--out", w.path("o"), w.path("nope.mp4")],
         message="nope.mp4"),
    Case("ingest", "empty", lambda w: ["ingest", "--out", w.path("o"), w.file("e.mp4")],
         message="e.mp4"),
    Case("ingest", "truncated", lambda w: ["ingest", "--out", w.path("o"), w.video(),
                                           w.truncated_video()], message="cut.mp4"),
    Case("ingest", "truncated", lambda w: ["ingest", "--out", w.path("o"),
                                           w.truncated_video("cut.avi", "MJPG"), *QUICK],
         exit=0, message="session of 1 cameras"),
    Case("ingest", "frame-counts", lambda w: ["ingest", "--out", w.path("o"),
                                              w.video("a.mp4", 5), w.video("b.mp4", 9), *QUICK],
         exit=0, message="session of 2 cameras"),
    Case("ingest", "non-utf8", lambda w: ["ingest", "--out", w.path("o"),
                                          w.video(NON_UTF8 + b".mp4")], message="UTF-8"),
    Case("ingest", "non-utf8", lambda w: ["ingest", w.video(NON_UTF8 + b".mp4"), "--out",
                                          w.path("o"), "--reference", "--names", "a"],
         message="UTF-8"),
    Case("ingest", "non-utf8", lambda w: ["ingest", w.video(), "--out", w.path("o"),
                                          "--names", "cam\udcff"], message="camera name"),
    Case("ingest", "bad-option", lambda w: ["ingest", w.video(), "--out", w.path("o"),
                                            "--names", "../x"], message="camera name"),
    Case("ingest", "bad-option", lambda w: ["ingest", "--out", w.path("o"), "--fps", "-1",
                                            w.video()], message="fps"),
    Case("ingest", "one-camera", lambda w: ["ingest", "--out", w.path("o"), w.video(), *QUICK],
         exit=0, message="session of 1 cameras"),
    Case("ingest", "spaces", lambda w: ["ingest", "--out", w.path("my data", "s 1"),
                                        w.video("cam 01.mp4"), *QUICK], exit=0,
         message="my data"),
    Case("ingest", "exists", lambda w: ["ingest", "--out", str(w.synth("o")), w.video()],
         message="--force"),
    Case("ingest", "read-only", lambda w: ["ingest", "--out", os.path.join(_mkdir(w, "ro"), "s"),
                                           w.video()], read_only="ro"),
    Case("ingest", "full-disk", lambda w: ["ingest", "--out", w.path("o"), w.video("a.mp4"),
                                           w.video("b.mp4")], full_disk=True,
         message="No space"),
    Case("ingest", "full-disk", lambda w: ["ingest", "--out", w.path("o"), "--reference",
                                           w.video("a.mp4")], full_disk=True,
         message="No space"),
    # ---- import openpose ------------------------------------------------------------------------
    Case("import openpose", "missing", lambda w: ["import", "openpose", "--out", w.path("o"),
                                                  w.path("nope_json"), "--image-size", "640",
                                                  "480", "--fps", "30"], message="nope_json"),
    Case("import openpose", "empty", lambda w: ["import", "openpose", "--out", w.path("o"),
                                                _mkdir(w, "cam01_json"), "--image-size", "640",
                                                "480", "--fps", "30"], message="no .json"),
    Case("import openpose", "empty", lambda w: [
        "import", "openpose", "--out", w.path("o"),
        w.openpose_frames("cam01_json", {"cam01.0001.json": b""}), "--image-size", "640", "480",
        "--fps", "30"], message="not valid JSON"),
    Case("import openpose", "wrong-shape", lambda w: [
        "import", "openpose", "--out", w.path("o"),
        w.openpose_frames("cam01_json", {"cam01.0001.json": json.dumps(
            {"people": [{"pose_keypoints_2d": [1.0] * 7}]})}),
        "--image-size", "640", "480", "--fps", "30"], message="multiple of 3"),
    Case("import openpose", "nan", lambda w: [
        "import", "openpose", "--out", w.path("o"),
        w.openpose_frames("cam01_json", {f"cam01.{t:04d}.json": json.dumps(
            {"people": [{"pose_keypoints_2d": [float("nan")] * 75}]}) for t in range(3)}),
        "--image-size", "640", "480", "--fps", "30"], message="no person"),
    Case("import openpose", "bad-option", lambda w: ["import", "openpose", "--out", w.path("o"),
                                                     *w.openpose()], message="--image-size"),
    Case("import openpose", "one-camera", lambda w: [
        "import", "openpose", "--out", w.path("o"), *w.openpose(cams=("cam01",)),
        "--image-size", "1280", "1000", "--fps", "30", *QUICK], exit=0, message="1 cameras"),
    Case("import openpose", "frame-counts", lambda w: [
        "import", "openpose", "--out", w.path("o"), *w.openpose(cams=("cam01",), T=3),
        *w.openpose(cams=("cam02",), T=7), "--image-size", "1280", "1000", "--fps", "30", *QUICK],
         exit=0, message="2 cameras, 7 frames"),
    Case("import openpose", "non-utf8", lambda w: [
        "import", "openpose", "--out", w.path("o"),
        *w.openpose(cams=("cam01",), folder_names=[NON_UTF8 + b"_json"]),
        "--image-size", "1280", "1000", "--fps", "30"], message="--names"),
    Case("import openpose", "spaces", lambda w: [
        "import", "openpose", "--out", w.path("my data", "s 1"),
        *w.openpose(cams=("cam 01",)), "--image-size", "1280", "1000", "--fps", "30", *QUICK],
         exit=0, message="my data"),
    Case("import openpose", "exists", lambda w: [
        "import", "openpose", "--out", str(w.synth("o")), *w.openpose(), "--image-size", "1280",
        "1000", "--fps", "30"], message="--force"),
    Case("import openpose", "read-only", lambda w: [
        "import", "openpose", "--out", os.path.join(_mkdir(w, "ro"), "s"), *w.openpose(),
        "--image-size", "1280", "1000", "--fps", "30"], read_only="ro"),
    Case("import openpose", "full-disk", lambda w: [
        "import", "openpose", "--out", w.path("o"), *w.openpose(), "--image-size", "1280",
        "1000", "--fps", "30"], full_disk=True, message="No space"),
    Case("import openpose", "full-disk", lambda w: [
        "import", "openpose", "--out", str(w.synth("o")), *w.openpose(), "--image-size", "1280",
        "1000", "--fps", "30", "--force"], full_disk=True, message="No space"),
    # ---- import coco ----------------------------------------------------------------------------
    Case("import coco", "missing", lambda w: ["import", "coco", "--out", w.path("o"),
                                              w.path("nope.json"), "--image-size", "640", "480",
                                              "--fps", "30"], message="nope.json"),
    Case("import coco", "empty", lambda w: ["import", "coco", "--out", w.path("o"),
                                            w.file("e.json"), "--image-size", "640", "480",
                                            "--fps", "30"], message="e.json"),
    Case("import coco", "wrong-shape", lambda w: [
        "import", "coco", "--out", w.path("o"),
        w.coco(doc=[{"image_id": 1, "keypoints": [1.0, 2.0]}]), "--image-size", "640", "480",
        "--fps", "30"], message="multiple of 3"),
    Case("import coco", "nan", lambda w: [
        "import", "coco", "--out", w.path("o"),
        w.coco(doc=[{"image_id": t, "keypoints": [float("nan")] * 51} for t in range(3)]),
        "--image-size", "640", "480", "--fps", "30"], message="no person"),
    Case("import coco", "wrong-shape", lambda w: [
        "import", "coco", "--out", w.path("o"),
        w.coco(doc=[{"image_id": 0, "keypoints": [1.0] * 51},
                    {"image_id": 10**12, "keypoints": [1.0] * 51}]),
        "--image-size", "640", "480", "--fps", "30"], message="frame numbers"),
    Case("import coco", "bad-option", lambda w: ["import", "coco", "--out", w.path("o"),
                                                 w.coco(), "--image-size", "640", "480",
                                                 "--fps", "0"], message="fps"),
    Case("import coco", "bad-option", lambda w: ["import", "coco", "--out", w.path("o"),
                                                 w.coco(), "--image-size", "-640", "480",
                                                 "--fps", "30"], message="image"),
    Case("import coco", "one-camera", lambda w: ["import", "coco", "--out", w.path("o"),
                                                 w.coco(), "--image-size", "1280", "1000",
                                                 "--fps", "30", *QUICK],
         exit=0, message="1 cameras"),
    Case("import coco", "truncated", lambda w: ["import", "coco", "--out", w.path("o"),
                                                w.coco(), "--video", w.truncated_video()],
         message="cut.mp4"),
    # ---- import npz -----------------------------------------------------------------------------
    Case("import npz", "missing", lambda w: ["import", "npz", "--out", w.path("o"),
                                             w.path("nope.npz")], message="nope.npz"),
    Case("import npz", "empty", lambda w: ["import", "npz", "--out", w.path("o"),
                                           w.file("e.npz")], message="e.npz"),
    Case("import npz", "wrong-shape", lambda w: [
        "import", "npz", "--out", w.path("o"),
        w.keypoints_npz(keypoints=np.zeros((2, 5, 16, 3), np.float32))], message="keypoints"),
    Case("import npz", "nan", lambda w: [
        "import", "npz", "--out", w.path("o"),
        w.keypoints_npz(keypoints=np.full((2, 5, 17, 3), np.nan, np.float32))],
         message="confidence"),
    Case("import npz", "one-camera", lambda w: ["import", "npz", "--out", w.path("o"),
                                                w.keypoints_npz(), "--names", "cam02", *QUICK],
         exit=0, message="1 cameras"),
    Case("import npz", "bad-option", lambda w: ["import", "npz", "--out", w.path("o"),
                                                w.keypoints_npz(), "--names", "cam09"],
         message="cam09"),
    Case("import npz", "bad-option", lambda w: ["import", "npz", "--out", w.path("o"),
                                                w.keypoints_npz(), "--fps", "nan"],
         message="fps"),
    Case("import npz", "read-only", lambda w: [
        "import", "npz", "--out", os.path.join(_mkdir(w, "ro"), "s"), w.keypoints_npz()],
         read_only="ro"),
    Case("import npz", "full-disk", lambda w: ["import", "npz", "--out", w.path("o"),
                                               w.keypoints_npz()], full_disk=True,
         message="No space"),
    # ---- view (offscreen) -------------------------------------------------------------------------
    Case("view", "missing", lambda w: ["view", w.path("nope"), "--offscreen", w.path("a.png")],
         message="nope"),
    Case("view", "empty", lambda w: ["view", str(w.replace(w.session(), "cameras.toml", b"")),
                                     "--offscreen", w.path("a.png")], message="cameras.toml"),
    Case("view", "wrong-shape", lambda w: ["view", str(w.wrong_shape_poses()), "--offscreen",
                                           w.path("a.png")], message="poses3d.npz"),
    Case("view", "nan", lambda w: ["view", str(w.nan_poses_session()), "--offscreen",
                                   w.path("a.png")], message="triangulated"),
    Case("view", "bad-option", lambda w: ["view", str(w.session()), "--offscreen",
                                          w.path("a.png"), "--size", "5x5"], message="--size"),
    Case("view", "bad-option", lambda w: ["view", str(w.session()), "--offscreen",
                                          w.path("a.png"), "--view", "camera", "nope"],
         message="nope"),
    Case("view", "bad-option", lambda w: ["view", str(w.session()), "--offscreen",
                                          w.path("a.gif")], message="a.gif"),
    Case("view", "bad-option", lambda w: ["view", str(w.session()), "--offscreen",
                                          w.path("a.png"), "--frame", "999"], message="999"),
    Case("view", "exists", lambda w: ["view", str(w.session()), "--offscreen",
                                      w.file("a.png", b"mine")], message="--force"),
    Case("view", "spaces", lambda w: ["view", str(w.session("my session")), "--offscreen",
                                      w.path("my out", "a b.png"), "--size", "160x120"],
         exit=0, message="a b.png"),
    Case("view", "one-camera", lambda w: ["view", str(w.one_camera_session()), "--offscreen",
                                          w.path("a.png"), "--size", "160x120", "--view",
                                          "camera", "cam02"], exit=0, message="a.png"),
    Case("view", "read-only", lambda w: ["view", str(w.session()), "--overlays",
                                         os.path.join(_mkdir(w, "ro"), "ov")], read_only="ro"),
    # ---- report -----------------------------------------------------------------------------------
    Case("report", "missing", lambda w: ["report", w.path("nope"), "--no-snapshots"],
         message="nope"),
    Case("report", "empty", lambda w: ["report", str(w.replace(w.session(), "poses3d.npz", b"")),
                                       "--no-snapshots"], message="poses3d.npz"),
    Case("report", "wrong-shape", lambda w: ["report", str(w.wrong_shape_poses()),
                                             "--no-snapshots"], message="poses3d.npz"),
    Case("report", "missing", lambda w: ["report", str(w.session()), "--no-snapshots", "--run",
                                         _mkdir(w, "run")], message="metrics.csv"),
    Case("report", "exists", lambda w: ["report", str(w.session()), "--no-snapshots", "--out",
                                        w.file("r.html", b"mine")], message="--force"),
    Case("report", "read-only", lambda w: ["report", str(w.session()), "--no-snapshots", "--out",
                                           os.path.join(_mkdir(w, "ro"), "r.html")],
         read_only="ro"),
    Case("report", "full-disk", lambda w: ["report", str(w.session()), "--no-snapshots", "--out",
                                           w.file("r.html", b"mine"), "--force"],
         full_disk=True, message="No space"),
    Case("report", "nan", lambda w: ["report", str(w.nan_poses_session()), "--no-snapshots",
                                     "--out", w.path("r.html")], message="triangulated"),
    Case("report", "spaces", lambda w: ["report", str(w.session("my session")), "--no-snapshots",
                                        "--out", w.path("my report.html")], exit=0,
         message="my report.html"),
    Case("report", "one-camera", lambda w: ["report", str(w.one_camera_session()),
                                            "--no-snapshots", "--out", w.path("r.html")],
         exit=0, message="r.html"),
]

# ---- export: every format against the same faults -----------------------------------------------
for _fmt in POSE_FORMATS + CAMERA_FORMATS:
    needs = "poses3d.npz" if _fmt in POSE_FORMATS else "cameras.toml"
    CASES += [
        Case(f"export {_fmt}", "missing", lambda w, f=_fmt: _export(
            w, f, str(w.synth("syn")), w.path(EXT[f])), message="not found"),
        Case(f"export {_fmt}", "empty", lambda w, f=_fmt, n=needs: _export(
            w, f, str(w.replace(w.session(), n, b"")), w.path(EXT[f])), message=needs),
        Case(f"export {_fmt}", "exists", lambda w, f=_fmt: _export(
            w, f, str(w.session()), _existing(w, f)), message="--force"),
        Case(f"export {_fmt}", "read-only", lambda w, f=_fmt: _export(
            w, f, str(w.session()), os.path.join(_mkdir(w, "ro"), EXT[f])), read_only="ro"),
        Case(f"export {_fmt}", "full-disk", lambda w, f=_fmt: _export(
            w, f, str(w.session()), _existing(w, f), "--force"),
             full_disk=True, message="No space"),
        Case(f"export {_fmt}", "spaces", lambda w, f=_fmt: _export(
            w, f, str(w.session("my session")), w.path("my out", EXT[f])), exit=0,
             message="my out"),
        Case(f"export {_fmt}", "one-camera", lambda w, f=_fmt: _export(
            w, f, str(w.one_camera_session()), w.path(EXT[f])), exit=0, message=EXT[_fmt]),
    ]
    if _fmt in POSE_FORMATS:
        CASES += [
            Case(f"export {_fmt}", "wrong-shape", lambda w, f=_fmt: _export(
                w, f, str(w.wrong_shape_poses()), w.path(EXT[f])), message="poses3d.npz"),
            Case(f"export {_fmt}", "nan", lambda w, f=_fmt: _export(
                w, f, str(w.nan_poses_session()), w.path(EXT[f])), message="triangulated"),
        ]
CASES += [
    Case("export anipose", "bad-option", lambda w: _export(w, "anipose", str(w.session()),
                                                           w.path("c.toml"),
                                                           "--units-per-metre", "-5"),
         message="units-per-metre"),
    Case("export anipose", "bad-option", lambda w: _export(w, "anipose", str(w.session()),
                                                           w.path("c.toml"),
                                                           "--units-per-metre", "nan"),
         message="units-per-metre"),
]

# ---- verbs still being written: add their cases here when they land ------------------------------
# e.g. Case("triangulate", "one-camera", lambda w: ["triangulate", str(w.one_camera_session())],
#           message="two cameras"), and calibrate / detect / sync / label / train / evaluate /
#           infer against the same FAULTS.
