"""Bad-input matrix cases of the verbs that read a finished session: view, report, export."""
from __future__ import annotations

import os

from tests.hardening.workspace import QUICK, Case, Workspace


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

OUTPUT_CASES: list[Case] = [
    # ---- view (offscreen) -----------------------------------------------------------------------
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
                                         os.path.join(w.mkdir("ro"), "ov")], read_only="ro"),
    # ---- report ---------------------------------------------------------------------------------
    Case("report", "missing", lambda w: ["report", w.path("nope"), "--no-snapshots"],
         message="nope"),
    Case("report", "empty", lambda w: ["report", str(w.replace(w.session(), "poses3d.npz", b"")),
                                       "--no-snapshots"], message="poses3d.npz"),
    Case("report", "wrong-shape", lambda w: ["report", str(w.wrong_shape_poses()),
                                             "--no-snapshots"], message="poses3d.npz"),
    Case("report", "missing", lambda w: ["report", str(w.session()), "--no-snapshots", "--run",
                                         w.mkdir("run")], message="metrics.csv"),
    Case("report", "exists", lambda w: ["report", str(w.session()), "--no-snapshots", "--out",
                                        w.file("r.html", b"mine")], message="--force"),
    Case("report", "read-only", lambda w: ["report", str(w.session()), "--no-snapshots", "--out",
                                           os.path.join(w.mkdir("ro"), "r.html")],
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
    OUTPUT_CASES += [
        Case(f"export {_fmt}", "missing", lambda w, f=_fmt: _export(
            w, f, str(w.synth("syn")), w.path(EXT[f])), message="not found"),
        Case(f"export {_fmt}", "empty", lambda w, f=_fmt, n=needs: _export(
            w, f, str(w.replace(w.session(), n, b"")), w.path(EXT[f])), message=needs),
        Case(f"export {_fmt}", "exists", lambda w, f=_fmt: _export(
            w, f, str(w.session()), _existing(w, f)), message="--force"),
        Case(f"export {_fmt}", "read-only", lambda w, f=_fmt: _export(
            w, f, str(w.session()), os.path.join(w.mkdir("ro"), EXT[f])), read_only="ro"),
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
        OUTPUT_CASES += [
            Case(f"export {_fmt}", "wrong-shape", lambda w, f=_fmt: _export(
                w, f, str(w.wrong_shape_poses()), w.path(EXT[f])), message="poses3d.npz"),
            Case(f"export {_fmt}", "nan", lambda w, f=_fmt: _export(
                w, f, str(w.nan_poses_session()), w.path(EXT[f])), message="triangulated"),
        ]
OUTPUT_CASES += [
    Case("export anipose", "bad-option", lambda w: _export(w, "anipose", str(w.session()),
                                                           w.path("c.toml"),
                                                           "--units-per-metre", "-5"),
         message="units-per-metre"),
    Case("export anipose", "bad-option", lambda w: _export(w, "anipose", str(w.session()),
                                                           w.path("c.toml"),
                                                           "--units-per-metre", "nan"),
         message="units-per-metre"),
]
