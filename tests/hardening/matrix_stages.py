"""Bad-input matrix cases of the processing verbs: calibrate, triangulate, sync, detect, label,
train, evaluate, infer, run and demo."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.hardening.workspace import QUICK, Case, Workspace


def _calibratable(w: Workspace, name: str = "cal") -> Path:
    """A synthetic session calibration can solve quickly (4 cameras, 60 frames, known
    intrinsics in SESSION/truth/cameras.toml)."""
    from epicap.cli import main

    assert main(["synth", "--out", w.path(name), "--cameras", "4", "--frames", "60",
                 "--quiet"]) == 0
    return w.root / name


def _keypoints(w: Workspace, session: Path, change) -> Path:
    """Rewrite SESSION/keypoints2d.npz with `change(keypoints) -> keypoints` applied."""
    from epicap.session import KEYPOINTS_FILE, Keypoints2D

    kp = Keypoints2D.from_npz(session / KEYPOINTS_FILE)
    new = change(kp)
    new.save(session / KEYPOINTS_FILE)
    return session


def _nan(kp):
    from epicap.session import Keypoints2D

    k = kp.keypoints.copy()
    k[...] = (np.nan, np.nan, 0.0)
    return Keypoints2D(k, kp.cameras, kp.joint_set, kp.image_size, kp.fps, kp.joints)


def _one_camera(kp):
    return kp.select_cameras(kp.cameras[:1])


def _with_poses(w: Workspace, name: str = "tri") -> Path:
    """A calibrated, triangulated session (true cameras) ready for label."""
    import shutil

    from epicap.cli import main

    s = _calibratable(w, name)
    shutil.copy(s / "truth" / "cameras.toml", s / "cameras.toml")
    assert main(["triangulate", str(s), "--quiet"]) == 0
    return s


def _dataset(w: Workspace) -> str:
    from epicap.cli import main

    s = _with_poses(w, "lab")
    assert main(["label", str(s), "--out", w.path("ds"), "--no-crops", "--quiet"]) == 0
    return w.path("ds")


def _run(w: Workspace) -> str:
    from epicap.cli import main

    ds = _dataset(w)
    assert main(["train", ds, "--out", w.path("run"), "--epochs", "1", "--quiet"]) == 0
    return w.path("run")


def _corrupt_run(w: Workspace) -> str:
    """A run folder whose checkpoint is a truncated zip."""
    w.file("run/checkpoint.pt", b"PK\x03\x04garbage")
    return w.path("run")


def _intrinsics(w: Workspace, session: Path, scale: float = 1.0) -> str:
    """An intrinsics-only cameras.toml for `session`'s cameras; `scale` != 1 makes it for
    another image size."""
    from epicap.session import Cameras

    truth = Cameras.from_toml(session / "truth" / "cameras.toml")
    size = (truth.image_size * scale).astype(int)
    path = w.path("intrinsics.toml")
    Cameras(truth.names, size, truth.K, truth.dist).to_toml(path)
    return path


STAGE_CASES: list[Case] = [
    # ---- calibrate --------------------------------------------------------------------------
    Case("calibrate", "missing", lambda w: ["calibrate", w.path("nope"), *QUICK], message="nope"),
    Case("calibrate", "empty", lambda w: ["calibrate", str(w.replace(
        _calibratable(w), "keypoints2d.npz", b"")), *QUICK], message="keypoints2d.npz"),
    Case("calibrate", "one-camera", lambda w: ["calibrate", str(_keypoints(
        w, _calibratable(w), _one_camera)), *QUICK], message="2 cameras"),
    Case("calibrate", "nan", lambda w: ["calibrate", str(_keypoints(
        w, _calibratable(w), _nan)), *QUICK], message="frames"),
    Case("calibrate", "wrong-shape", lambda w: ["calibrate", str(s := _calibratable(w)),
                                                "--intrinsics", _intrinsics(w, s, 0.5), *QUICK],
         message="intrinsics"),
    Case("calibrate", "bad-option", lambda w: ["calibrate", str(_calibratable(w)),
                                               "--subject-height", "178", *QUICK],
         message="height"),
    Case("calibrate", "exists", lambda w: ["calibrate", str(w.replace(
        _calibratable(w), "cameras.toml", "[mine]\n")), *QUICK], message="--force"),
    Case("calibrate", "full-disk", lambda w: ["calibrate", str(s := _calibratable(w)),
                                              "--intrinsics", _intrinsics(w, s), *QUICK],
         message="No space", full_disk=True),
    # ---- triangulate ------------------------------------------------------------------------
    Case("triangulate", "missing", lambda w: ["triangulate", w.path("nope"), *QUICK],
         message="nope"),
    Case("triangulate", "empty", lambda w: ["triangulate", str(w.replace(
        w.session(), "cameras.toml", b"")), "--force", *QUICK], message="cameras.toml"),
    Case("triangulate", "one-camera", lambda w: ["triangulate", str(w.session()), "--cameras",
                                                 str(w.one_camera_session() / "cameras.toml"),
                                                 "--force", *QUICK], message="needs two"),
    Case("triangulate", "nan", lambda w: ["triangulate", str(_keypoints(
        w, w.session(), _nan)), "--force", *QUICK], message="no joint could be triangulated"),
    Case("triangulate", "exists", lambda w: ["triangulate", str(w.session()), *QUICK],
         message="--force"),
    Case("triangulate", "full-disk", lambda w: ["triangulate", str(w.session()), "--force",
                                                *QUICK], message="No space", full_disk=True),
    # ---- sync -------------------------------------------------------------------------------
    Case("sync", "missing", lambda w: ["sync", w.path("nope"), *QUICK], message="nope"),
    Case("sync", "empty", lambda w: ["sync", str(w.replace(
        w.synth(), "keypoints2d.npz", b"")), *QUICK], message="keypoints2d.npz"),
    Case("sync", "bad-option", lambda w: ["sync", str(w.synth()), "--reference", "cam09",
                                          *QUICK], message="cam09"),
    # ---- detect -----------------------------------------------------------------------------
    Case("detect", "missing", lambda w: ["detect", w.path("nope"), *QUICK], message="nope"),
    Case("detect", "empty", lambda w: ["detect", str(w.synth()), "--force", *QUICK],
         message="video"),
    Case("detect", "bad-option", lambda w: ["detect", str(w.synth()), "--model",
                                            w.file("model.task", b"not a zip"), "--force",
                                            *QUICK], message="model.task"),
    Case("detect", "exists", lambda w: ["detect", str(w.synth()), *QUICK], message="--force"),
    # ---- label ------------------------------------------------------------------------------
    Case("label", "missing", lambda w: ["label", w.path("nope"), "--out", w.path("ds"), *QUICK],
         message="nope"),
    Case("label", "empty", lambda w: ["label", str(w.replace(w.session(), "poses3d.npz", b"")),
                                      "--out", w.path("ds"), *QUICK], message="poses3d.npz"),
    Case("label", "nan", lambda w: ["label", str(w.nan_poses_session()), "--out", w.path("ds"),
                                    "--no-crops", *QUICK], message="sample"),
    Case("label", "exists", lambda w: ["label", str(_with_poses(w)), "--out",
                                       str(Path(_dataset(w))), "--no-crops", *QUICK],
         message="--force"),
    # ---- train, evaluate, infer -------------------------------------------------------------
    Case("train", "missing", lambda w: ["train", w.path("nope"), "--out", w.path("run"), *QUICK],
         message="nope"),
    Case("train", "empty", lambda w: ["train", w.mkdir("empty"), "--out", w.path("run"),
                                      *QUICK], message="empty"),
    Case("train", "bad-option", lambda w: ["train", _dataset(w), "--out", w.path("run"),
                                           "--lr", "-1", *QUICK], message="--lr"),
    Case("evaluate", "missing", lambda w: ["evaluate", w.path("nope"), w.path("ds"), *QUICK],
         message="nope"),
    Case("evaluate", "truncated", lambda w: ["evaluate", _corrupt_run(w), _dataset(w), *QUICK],
         message="checkpoint"),
    Case("infer", "missing", lambda w: ["infer", _run(w), w.path("nope.npz"), "--out",
                                        w.path("p.npz"), *QUICK], message="nope.npz"),
    # ---- run and demo -----------------------------------------------------------------------
    Case("run", "missing", lambda w: ["run", w.path("nope"), *QUICK], message="nope"),
    Case("run", "empty", lambda w: ["run", w.mkdir("empty"), *QUICK], message="not a session"),
    Case("run", "wrong-shape", lambda w: ["run", w.file("cam01.mp4", b"not a folder"), *QUICK],
         message="a file, not a session folder"),
    # every option is checked before the first stage: nothing written, run.toml included
    Case("run", "bad-option", lambda w: ["run", str(w.synth()), "--subject-height", "178",
                                         *QUICK], message="--subject-height 178"),
    Case("run", "bad-option", lambda w: ["run", str(w.synth()), "--intrinsics",
                                         w.path("nope.toml"), *QUICK], message="nope.toml"),
    Case("run", "bad-option", lambda w: ["run", str(w.synth()), "--train", "--set", "lr=-1",
                                         *QUICK], message="--lr"),
    Case("demo", "exists", lambda w: ["demo", "--out", str(Path(w.file("mine/notes.txt",
                                                                       b"keep")).parent),
                                      "--force", *QUICK], message="refusing"),
    Case("demo", "bad-option", lambda w: ["demo", "--out", w.path("d"), "--frames", "5",
                                          *QUICK], message="--frames"),
]
