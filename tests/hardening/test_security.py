"""Security properties of the issue: datasets and session files load without unpickling, and
paths inside a session manifest cannot point outside the session unless the user passed them.

The loader check is static (every `np.load` / `torch.load` call in the package, present and
future, must refuse pickles), so code that lands later is held to it too.
"""
from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from epicap.errors import InputError
from epicap.session.manifest import MANIFEST_FILE, CameraEntry, SessionManifest

PACKAGE = Path(__file__).resolve().parents[2] / "epicap"


def _calls(tree: ast.AST, attr: str, modules: tuple[str, ...]):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr == attr and isinstance(node.func.value, ast.Name) \
                and node.func.value.id in modules:
            yield node


def _keyword(call: ast.Call, name: str):
    for k in call.keywords:
        if k.arg == name:
            return k.value
    return None


def test_every_loader_in_the_package_refuses_pickles():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for call in _calls(tree, "load", ("np", "numpy")):
            v = _keyword(call, "allow_pickle")
            if not (isinstance(v, ast.Constant) and v.value is False):
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{call.lineno} np.load")
        for call in _calls(tree, "load", ("torch",)):
            v = _keyword(call, "weights_only")
            if not (isinstance(v, ast.Constant) and v.value is True):
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{call.lineno} torch.load")
        for call in _calls(tree, "loads", ("pickle",)):
            offenders.append(f"{path.relative_to(PACKAGE.parent)}:{call.lineno} pickle.loads")
    assert not offenders, "loaders that may unpickle: " + ", ".join(offenders)


def test_the_static_check_sees_a_pickling_load():
    """The check above can fail: it flags a load without allow_pickle=False."""
    tree = ast.parse("import numpy as np\nnp.load('x.npz')\nnp.load('y', allow_pickle=False)")
    calls = list(_calls(tree, "load", ("np",)))
    assert len(calls) == 2 and _keyword(calls[0], "allow_pickle") is None


def test_session_files_with_pickled_objects_are_refused(tmp_path):
    from epicap.session import Keypoints2D, Poses3D

    evil = np.array([{"evil": 1}], dtype=object)  # any object array is stored as a pickle
    np.savez(tmp_path / "k.npz", keypoints=np.zeros((1, 1, 17, 3), np.float32), cameras=evil,
             joints=np.array(["x"]), joint_set=np.array("coco17"), image_size=np.array([[1, 1]]),
             fps=np.array(1.0))
    np.savez(tmp_path / "p.npz", poses=np.zeros((1, 17, 3), np.float32),
             reprojection_error=np.zeros((1, 17), np.float32), views=np.zeros((1, 17), np.uint8),
             joints=evil, joint_set=np.array("h36m17"), fps=np.array(1.0))
    for reader, name in ((Keypoints2D.from_npz, "k.npz"), (Poses3D.from_npz, "p.npz")):
        with pytest.raises(InputError, match="not a readable .npz"):
            reader(tmp_path / name)


def _manifest(tmp_path: Path, **entry) -> Path:
    fields = {"name": "cam01", "fps": 30.0, "frame_count": 3, "width": 64, "height": 48, **entry}
    lines = ["version = 1", "", "[[camera]]"]
    for k, v in fields.items():
        lines.append(f"{k} = " + ("true" if v is True else "false" if v is False else
                                  f'"{v}"' if isinstance(v, str) else repr(v)))
    (tmp_path / MANIFEST_FILE).write_text("\n".join(lines) + "\n")
    return tmp_path


@pytest.mark.parametrize("entry", [
    {"video": "../other/cam01.mp4"}, {"video": "/etc/passwd"}, {"video": "videos/../../x.mp4"},
    {"timestamps": "../../etc/passwd"},
    # marked external (as `ingest --reference` does), a relative path still may not climb out
    {"external": True, "video": "../../etc/passwd"},
    {"external": True, "timestamps": "../../etc/hostname"},
    # a string "false" is not false (it used to mark the entry external)
    {"external": "false", "video": "/etc/passwd"},
])
def test_manifest_paths_stay_inside_the_session(tmp_path, entry):
    with pytest.raises(InputError, match="outside the session|external must be"):
        SessionManifest.load(_manifest(tmp_path, **entry))


def test_paths_the_user_passed_may_lie_outside(tmp_path):
    video = tmp_path / "elsewhere" / "cam01.mp4"
    session = tmp_path / "s"
    session.mkdir()
    SessionManifest([CameraEntry("cam01", 30.0, 3, 64, 48, video=str(video),
                                 timestamps="timestamps/cam01.csv", external=True)]).save(session)
    man = SessionManifest.load(session)
    assert man.video_path(session, "cam01") == video
    (session / "timestamps").mkdir()
    (session / "timestamps" / "cam01.csv").write_text("0\n0.033\n0.066\n")
    np.testing.assert_allclose(man.timestamps(session, "cam01"), [0, 0.033, 0.066])


def test_camera_names_cannot_make_paths_climb_out(tmp_path):
    """Camera names become file names (videos/<name>.mp4): a name with a separator is refused
    wherever it enters (a manifest, keypoints2d.npz, --names)."""
    from epicap.cli import main
    from tests.hardening.matrix import Workspace

    with pytest.raises(InputError, match="camera name"):
        SessionManifest.load(_manifest(tmp_path, name="../../evil"))
    w = Workspace(tmp_path / "w")
    (tmp_path / "w").mkdir()
    npz = w.keypoints_npz(cameras=np.array(["../../evil", "cam02"]))
    assert main(["import", "npz", "--out", str(tmp_path / "s"), npz]) == 2
    assert not (tmp_path / "s").exists() and not (tmp_path / "evil.mp4").exists()
