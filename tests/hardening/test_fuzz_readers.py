"""Fuzzing the readers of user files with hypothesis: `Keypoints2D.from_npz`,
`Cameras.from_toml`, `read_openpose` (folders of per-frame JSON) and `SessionManifest.load`.

Property, for every input: the reader returns an object that honours the file contract
(`tests.hardening.helpers.assert_valid_*`) or raises `InputError`; never another exception type,
never a hang (a generous time limit guards each call). Inputs: arbitrary bytes, valid files with
a few random edits (truncations, flips, insertions), and valid containers holding wrong dtypes,
shapes and values (NaN, inf, negative or huge sizes, unicode and empty names, hostile paths).

`max_examples` stays modest so the file runs in seconds; the `slow` variants repeat each
property with many more examples (`pytest -m slow tests/hardening`).
"""
from __future__ import annotations

import io
import json
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from epicap.errors import InputError
from epicap.joint_sets import get_joint_set
from epicap.keypoints.openpose import read_openpose
from epicap.session import Cameras, Keypoints2D
from epicap.session.manifest import MANIFEST_FILE, SessionManifest
from tests.hardening.helpers import (assert_valid_cameras, assert_valid_keypoints,
                                     assert_valid_manifest, mutated, time_limit, toml_table,
                                     toml_values)

FAST = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))
SLOW = settings(max_examples=2000, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))
HANG_S = 60.0  # far above any honest read of these tiny files, even on a busy machine

COCO = get_joint_set("coco17")


def _read_or_input_error(read, check):
    """Run `read()`; its result must pass `check`, and its only allowed failure is InputError."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numpy's overflow warnings are not the property
        with time_limit(HANG_S):
            try:
                result = read()
            except InputError as e:
                assert str(e).strip()  # (one line on the terminal: the CLI's job, see the matrix)
                return None
    check(result)
    return result


# ---- keypoints2d.npz -------------------------------------------------------------------------


def _good_npz(C=2, T=3) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    kp = np.concatenate([rng.uniform(0, 600, (C, T, 17, 2)), rng.uniform(0, 1, (C, T, 17, 1))],
                        -1).astype(np.float32)
    return {"keypoints": kp, "cameras": np.array([f"cam{i + 1:02d}" for i in range(C)]),
            "joints": np.array(COCO.joints), "joint_set": np.array("coco17"),
            "image_size": np.tile([640, 480], (C, 1)), "fps": np.array(30.0)}


def _npz_bytes(arrays: dict, compressed: bool) -> bytes:
    buf = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buf, **arrays)
    return buf.getvalue()


GOOD_NPZ = {c: _npz_bytes(_good_npz(), c) for c in (False, True)}
DTYPES = ["f4", "f8", "f2", "i8", "i4", "u1", "u8", "?", "c8", "U6", "S4"]
any_array = st.sampled_from(DTYPES).flatmap(lambda dt: hnp.arrays(
    dt, hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=3)))
floats_any = st.floats(allow_nan=True, allow_infinity=True, width=32)


@st.composite
def near_valid_npz(draw) -> dict[str, np.ndarray]:
    """A keypoints2d.npz mostly right: every key the contract's or a hostile variant, or absent."""
    C, T = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    good = _good_npz(max(C, 1), max(T, 1))
    variants = {
        "keypoints": [hnp.arrays(np.float32, (C, T, draw(st.sampled_from([17, 16, 33])), 3),
                                 elements=st.one_of(floats_any, st.floats(0, 1, width=32))),
                      hnp.arrays(np.float64, (C, T, 17, 3), elements=st.floats(-1e40, 1e40))],
        "cameras": [hnp.arrays(np.dtype("U8"), (C,), elements=st.text(max_size=8)),
                    st.just(np.array(["a/b", "..", ""][:C] or ["x"]))],
        "joints": [st.just(np.array(COCO.joints[::-1])), st.just(np.array([]))],
        "joint_set": [st.sampled_from([np.array("h36m17"), np.array("nope"),
                                       np.array(["coco17", "coco17"]), np.array("")])],
        "image_size": [hnp.arrays(np.int64, (C, 2), elements=st.integers(-2**63, 2**63 - 1)),
                       hnp.arrays(np.uint64, (C, 2)), hnp.arrays(np.float64, (C, 2))],
        "fps": [st.sampled_from([np.array(0.0), np.array(-30.0), np.array(np.nan),
                                 np.array(np.inf), np.array([30.0, 60.0]), np.array([]),
                                 np.array(2**63 - 1)])],
    }
    out = {}
    for key, value in good.items():
        choice = draw(st.sampled_from(["good", "good", "variant", "any", "absent"]))
        if choice == "good":
            out[key] = value
        elif choice == "variant":
            out[key] = draw(st.one_of(*variants[key]))
        elif choice == "any":
            out[key] = draw(any_array)
    return out


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def _load_npz_bytes(folder: Path, data: bytes):
    path = folder / "keypoints2d.npz"
    path.write_bytes(data)
    return _read_or_input_error(lambda: Keypoints2D.from_npz(path), assert_valid_keypoints)


@FAST
@given(data=st.binary(max_size=2048))
def test_keypoints_npz_arbitrary_bytes(scratch, data):
    _load_npz_bytes(scratch, data)


@FAST
@given(data=st.sampled_from([False, True]).flatmap(lambda c: mutated(GOOD_NPZ[c])))
def test_keypoints_npz_mutated(scratch, data):
    _load_npz_bytes(scratch, data)


@FAST
@given(arrays=near_valid_npz(), compressed=st.booleans())
def test_keypoints_npz_wrong_contents(scratch, arrays, compressed):
    _load_npz_bytes(scratch, _npz_bytes(arrays, compressed))


def test_keypoints_npz_never_unpickles(scratch):
    arrays = _good_npz()
    arrays["cameras"] = np.array(["cam01", object()], dtype=object)
    path = scratch / "pickled.npz"
    np.savez(path, **arrays)
    with pytest.raises(InputError, match="not a readable .npz"):
        Keypoints2D.from_npz(path)


def test_keypoints_npz_corrupt_compressed_member(scratch):
    """Found by the fuzzer: a flipped byte inside a deflated member raised zlib.error."""
    data = bytearray(GOOD_NPZ[True])
    start = data.index(b"keypoints.npy") + 40  # inside the member's compressed bytes
    for i in range(start, start + 8):
        data[i] ^= 0xFF
    assert _load_npz_bytes(scratch, bytes(data)) is None


@pytest.mark.parametrize("change", [
    {"keypoints": _good_npz()["keypoints"][:, :, :16]},  # 16 joints under coco17's 17 names
    {"keypoints": np.zeros((2, 0, 17, 3), np.float32)},  # no frames
    {"image_size": np.array([[2**40, 480], [640, 480]])},  # not a camera
    {"cameras": np.array(["../up", "cam02"])},  # a name that would be a path
    {"fps": np.array([30.0, 60.0])},
])
def test_keypoints_npz_found_cases(scratch, change):
    """Inputs the fuzzer found (each once loaded as garbage)."""
    assert _load_npz_bytes(scratch, _npz_bytes({**_good_npz(), **change}, True)) is None


def test_the_valid_npz_loads(scratch):
    """The mutation base is itself valid (so the mutation tests start from a good file)."""
    for data in GOOD_NPZ.values():
        assert _load_npz_bytes(scratch, data) is not None


# ---- poses3d.npz (read by view, report, export) ---------------------------------------------


def _good_poses(T=3) -> dict[str, np.ndarray]:
    from epicap.joint_sets import get_joint_set

    J = len(get_joint_set("h36m17"))
    rng = np.random.default_rng(1)
    return {"poses": rng.normal(0, 1, (T, J, 3)).astype(np.float32),
            "reprojection_error": rng.uniform(0, 3, (T, J)).astype(np.float32),
            "views": np.full((T, J), 3, np.uint8),
            "joints": np.array(get_joint_set("h36m17").joints), "joint_set": np.array("h36m17"),
            "fps": np.array(30.0)}


def assert_valid_poses(p) -> None:
    T, J, _ = p.poses.shape
    assert p.poses.dtype == np.float32 and not np.isinf(p.poses).any()
    assert p.reprojection_error.shape == (T, J) and p.views.shape == (T, J)
    assert p.views.dtype == np.uint8 and np.isfinite(p.fps) and p.fps > 0
    assert tuple(p.joints) == p.skeleton.joints and J == len(p.skeleton)


GOOD_POSES = _npz_bytes(_good_poses(), True)


@st.composite
def near_valid_poses(draw) -> dict[str, np.ndarray]:
    out = {}
    for key, value in _good_poses(draw(st.integers(0, 3))).items():
        choice = draw(st.sampled_from(["good", "good", "good", "any", "absent"]))
        if choice == "good":
            out[key] = value
        elif choice == "any":
            out[key] = draw(any_array)
    return out


def _load_poses_bytes(folder: Path, data: bytes):
    from epicap.session import Poses3D

    path = folder / "poses3d.npz"
    path.write_bytes(data)
    return _read_or_input_error(lambda: Poses3D.from_npz(path), assert_valid_poses)


@FAST
@given(data=mutated(GOOD_POSES))
def test_poses_npz_mutated(scratch, data):
    _load_poses_bytes(scratch, data)


@FAST
@given(arrays=near_valid_poses())
def test_poses_npz_wrong_contents(scratch, arrays):
    _load_poses_bytes(scratch, _npz_bytes(arrays, False))


@pytest.mark.parametrize("change", [{"fps": np.array([30.0, 60.0])},
                                    {"joint_set": np.array(["h36m17", "x"])},
                                    {"views": np.full((3, 17), 300)}])
def test_poses_npz_found_cases(scratch, change):
    assert _load_poses_bytes(scratch, _npz_bytes({**_good_poses(), **change}, False)) is None


def test_the_valid_poses_load(scratch):
    assert _load_poses_bytes(scratch, GOOD_POSES) is not None


# ---- cameras.toml ----------------------------------------------------------------------------

GOOD_CAMERA = {"name": "cam01", "size": [640.0, 480.0],
               "matrix": [[500.0, 0.0, 320.0], [0.0, 500.0, 240.0], [0.0, 0.0, 1.0]],
               "distortions": [0.01, -0.02, 0.0, 0.0], "rotation": [0.1, -0.2, 0.3],
               "translation": [0.0, 0.5, 3.0], "fisheye": False}
GOOD_META = {"adjusted": False, "error": 0.4}


def cameras_text(sections: dict[str, dict], meta: dict | None) -> str:
    parts = [toml_table(k, v) for k, v in sections.items()]
    if meta is not None:
        parts.append(toml_table("metadata", meta))
    return "\n\n".join(parts) + "\n"


GOOD_CAMERAS_TEXT = cameras_text({"cam01": GOOD_CAMERA, "cam02": {**GOOD_CAMERA, "name": "cam02"}},
                                 GOOD_META)
near_numbers = st.one_of(
    st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=0, max_size=6),
    st.lists(st.lists(st.floats(-1e308, 1e308), max_size=4), max_size=4),
    st.lists(st.one_of(st.integers(-2**63, 2**63 - 1), st.booleans()), min_size=2, max_size=3))


@st.composite
def near_valid_camera(draw) -> dict:
    cam = {}
    for key, value in GOOD_CAMERA.items():
        choice = draw(st.sampled_from(["good", "good", "good", "near", "any", "absent"]))
        if choice == "good":
            cam[key] = value
        elif choice == "near":
            cam[key] = draw(near_numbers) if key != "name" else draw(st.text(max_size=6))
        elif choice == "any":
            cam[key] = draw(toml_values)
    return cam


@st.composite
def near_valid_cameras_text(draw) -> str:
    keys = draw(st.lists(st.sampled_from(["cam01", "cam02", "a b", "é", "metadata2"]),
                         min_size=0, max_size=3, unique=True))
    sections = {k: draw(near_valid_camera()) for k in keys}
    meta = draw(st.one_of(st.none(), st.just(GOOD_META),
                          st.dictionaries(st.sampled_from(["adjusted", "error"]), toml_values)))
    return cameras_text(sections, meta)


def _load_cameras_bytes(folder: Path, data: bytes):
    path = folder / "cameras.toml"
    path.write_bytes(data)
    return _read_or_input_error(lambda: Cameras.from_toml(path), assert_valid_cameras)


@FAST
@given(data=st.binary(max_size=1024))
def test_cameras_toml_arbitrary_bytes(scratch, data):
    _load_cameras_bytes(scratch, data)


@FAST
@given(data=mutated(GOOD_CAMERAS_TEXT.encode()))
def test_cameras_toml_mutated(scratch, data):
    _load_cameras_bytes(scratch, data)


@FAST
@given(text=near_valid_cameras_text())
def test_cameras_toml_wrong_contents(scratch, text):
    _load_cameras_bytes(scratch, text.encode())


@pytest.mark.parametrize("text", [
    "metadata = 3\n" + toml_table("cam01", GOOD_CAMERA),
    "a = " + "[" * 5000 + "]" * 5000 + "\n",
    cameras_text({"cam01": {**GOOD_CAMERA, "size": [1e300, 480.0]}}, None),
    cameras_text({"cam01": {**GOOD_CAMERA, "size": [0.3, 480.0]}}, None),
    cameras_text({"cam01": {**GOOD_CAMERA, "rotation": [1e308, 1e308, 0.0]}}, None),
    cameras_text({"cam01": GOOD_CAMERA}, {"error": "abc"}),
    cameras_text({"cam01": GOOD_CAMERA}, {"error": [1.0]}),
    cameras_text({"cam01": GOOD_CAMERA}, {"adjusted": "false"}),
])
def test_cameras_toml_found_cases(scratch, text):
    """Inputs the fuzzer found (each once escaped as a bug or loaded as garbage)."""
    assert _load_cameras_bytes(scratch, text.encode()) is None


def test_the_valid_cameras_load(scratch):
    assert _load_cameras_bytes(scratch, GOOD_CAMERAS_TEXT.encode()) is not None


# ---- OpenPose JSON folders -------------------------------------------------------------------


def _person(rng, count=25) -> list[float]:
    xy = rng.uniform(100, 500, (count, 2))
    return np.concatenate([xy, rng.uniform(0.2, 1, (count, 1))], 1).reshape(-1).tolist()


GOOD_FRAME = json.dumps({"version": 1.3, "people": [
    {"person_id": [-1], "pose_keypoints_2d": _person(np.random.default_rng(0))}]}).encode()
json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers(-2**70, 2**70) | st.text(max_size=6),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["people", "pose_keypoints_2d", "version", "x"]), children,
                      max_size=3),
    max_leaves=16)
frame_names = st.one_of(
    st.integers(0, 10**15).map(lambda n: f"cam.{n:04d}.json"),
    st.integers(0, 50).map(lambda n: f"cam_{n:012d}_keypoints.json"),
    st.text(st.characters(blacklist_characters="/\x00", blacklist_categories=("Cs",)),
            min_size=1, max_size=8).map(lambda s: s + ".json"))


@st.composite
def openpose_frame(draw) -> bytes:
    kind = draw(st.sampled_from(["people", "people", "json", "bytes", "mutated"]))
    if kind == "bytes":
        return draw(st.binary(max_size=256))
    if kind == "mutated":
        return draw(mutated(GOOD_FRAME))
    if kind == "json":
        return json.dumps(draw(json_values)).encode()
    people = []
    for _ in range(draw(st.integers(0, 3))):
        n = draw(st.sampled_from([75, 75, 54, 51, 0, 3, 7, 78]))
        values = draw(st.lists(st.one_of(st.floats(0, 1000), st.floats(allow_nan=True,
                                                                       allow_infinity=True),
                                         st.integers(-10**30, 10**30)),
                               min_size=n, max_size=n))
        people.append({"pose_keypoints_2d": values})
    return json.dumps({"version": 1.3, "people": people}).encode()


@st.composite
def openpose_folders(draw) -> list[dict[str, bytes]]:
    return draw(st.lists(st.dictionaries(frame_names, openpose_frame(), min_size=0, max_size=4),
                         min_size=1, max_size=2))


def _read_openpose_folders(folders: list[dict[str, bytes]], image_size=(640, 480)):
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for c, files in enumerate(folders):
            folder = Path(tmp) / f"cam{c + 1:02d}_json"
            folder.mkdir()
            for name, data in files.items():
                (folder / name).write_bytes(data)
            paths.append(folder)
        return _read_or_input_error(
            lambda: read_openpose(paths, image_size=image_size, fps=30.0), assert_valid_keypoints)


@FAST
@given(folders=openpose_folders())
def test_openpose_folders(folders):
    _read_openpose_folders(folders)


@FAST
@given(size=st.lists(st.integers(-2**63, 2**63 - 1), min_size=2, max_size=2))
def test_openpose_image_size(size):
    _read_openpose_folders([{"cam.0001.json": GOOD_FRAME}], tuple(size))


@pytest.mark.parametrize("folders", [
    [{"cam.0000.json": GOOD_FRAME, "cam.999999999999.json": GOOD_FRAME}],  # a vast timeline
    [{"cam.0001.json": b"[" * 100000}],  # nesting deeper than the recursion limit
    [{"cam.0001.json": b'{"people": [{"pose_keypoints_2d": [1e999, 1, 1]}]}'}],
])
def test_openpose_found_cases(folders):
    assert _read_openpose_folders(folders) is None


def test_the_valid_openpose_folder_loads():
    assert _read_openpose_folders([{"cam.0001.json": GOOD_FRAME}]) is not None


# ---- session.toml ----------------------------------------------------------------------------

GOOD_ENTRY = {"name": "cam01", "video": "videos/cam01.mp4", "timestamps": "timestamps/cam01.csv",
              "fps": 30.0, "frame_count": 10, "width": 640, "height": 480}
HOSTILE_PATHS = ["../x.mp4", "/etc/passwd", "videos/../../x.mp4", "", ".", "a\x00b", "~/x",
                 "videos/./cam01.mp4", "..\\x.mp4"]


def manifest_text(top: dict, cameras: list[dict]) -> str:
    head = "\n".join(f"{k} = {json.dumps(v) if isinstance(v, str) else v}" for k, v in top.items())
    return head + "\n\n" + "\n\n".join(toml_table("[[camera]]", c) for c in cameras) + "\n"


GOOD_MANIFEST = manifest_text({"version": 1, "source": "ingest", "created": "x"},
                              [GOOD_ENTRY, {**GOOD_ENTRY, "name": "cam02",
                                            "video": "videos/cam02.mp4"}])


@st.composite
def near_valid_entry(draw) -> dict:
    entry = {}
    for key, value in GOOD_ENTRY.items():
        choice = draw(st.sampled_from(["good", "good", "near", "any", "absent"]))
        if choice == "good":
            entry[key] = value
        elif choice == "near":
            entry[key] = draw(st.sampled_from(HOSTILE_PATHS)) if key in ("video", "timestamps") \
                else draw(st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                                    st.integers(-2**63, 2**63 - 1), st.text(max_size=4)))
        elif choice == "any":
            entry[key] = draw(toml_values)
    if draw(st.booleans()):
        entry["external"] = draw(st.one_of(st.booleans(), toml_values))
    return entry


@st.composite
def near_valid_manifest(draw) -> str:
    version = draw(st.sampled_from(["1", "1", "2", '"1"', "true", "1.0"]))
    cams = draw(st.lists(near_valid_entry(), min_size=0, max_size=3))
    return manifest_text({"version": version}, cams)


def _load_manifest_bytes(folder: Path, data: bytes):
    (folder / MANIFEST_FILE).write_bytes(data)
    man = _read_or_input_error(lambda: SessionManifest.load(folder),
                               lambda m: assert_valid_manifest(m, folder))
    if man is not None:  # the paths it gives are inside the session or were passed by the user
        for name in man.names:
            _read_or_input_error(lambda: man.timestamps(folder, name),
                                 lambda ts: ts is None or (ts.ndim == 1 and ts.size >= 1))
    return man


@FAST
@given(data=st.binary(max_size=1024))
def test_manifest_arbitrary_bytes(scratch, data):
    _load_manifest_bytes(scratch, data)


@FAST
@given(data=mutated(GOOD_MANIFEST.encode()))
def test_manifest_mutated(scratch, data):
    _load_manifest_bytes(scratch, data)


@FAST
@given(text=near_valid_manifest())
def test_manifest_wrong_contents(scratch, text):
    _load_manifest_bytes(scratch, text.encode())


@pytest.mark.parametrize("entry", [
    {"fps": float("nan")}, {"fps": float("inf")}, {"frame_count": float("inf")},
    {"frame_count": 10.5}, {"video": {"a": 1}}, {"video": "a\x00b"}, {"video": ""},
    {"name": ["x"]}, {"name": "../a"}, {"name": ""},
    {"external": "false", "video": "../../etc/passwd"},
    {"external": True, "timestamps": "../../etc/passwd"},
])
def test_manifest_found_cases(scratch, entry):
    base = {k: v for k, v in GOOD_ENTRY.items() if k != "timestamps"}
    text = manifest_text({"version": 1}, [{**base, **entry}])
    assert _load_manifest_bytes(scratch, text.encode()) is None


def test_manifest_deep_nesting(scratch):
    assert _load_manifest_bytes(scratch, b"version = 1\na = " + b"[" * 5000 + b"]" * 5000) is None


def test_the_valid_manifest_loads(scratch):
    (scratch / "timestamps").mkdir(exist_ok=True)
    (scratch / "timestamps" / "cam01.csv").write_text("0.0\n0.033\n")
    (scratch / "timestamps" / "cam02.csv").write_text("0.0\n0.033\n")
    assert _load_manifest_bytes(scratch, GOOD_MANIFEST.encode()) is not None


# ---- what a writer writes, its reader reads back ---------------------------------------------

names = st.one_of(st.text(max_size=10), st.sampled_from(["cam 01", "é", "cam😀", "a\x7fb", "..",
                                                          "a/b", "c\\d", "x" * 300, "\udcff"]))


@FAST
@given(name=names, video=st.text(st.characters(blacklist_characters="\x00/",
                                               blacklist_categories=("Cs",)), min_size=1,
                                  max_size=10))
@example(name="cam😀", video="😀.mp4")  # json.dumps wrote a surrogate pair TOML refuses
@example(name="cam01", video="a\x7fb.mp4")  # a raw DEL: TOML 1.0 wants it escaped
def test_camera_names_that_pass_are_safe_and_round_trip(scratch, name, video):
    """A name check_camera_name accepts is a safe file name, and session.toml and cameras.toml
    written with it (and with any video file name) read back the same."""
    from epicap.session.manifest import CameraEntry
    from epicap.session.names import check_camera_name

    try:
        check_camera_name(name)
    except InputError:
        return
    folder = (scratch / "videos").resolve()
    assert (folder / f"{name}.mp4").resolve().parent == folder
    if video == "..":
        return
    entry = CameraEntry(name, 30.0, 5, 640, 480, video=f"videos/{video}", external=False)
    SessionManifest([entry], source=f"é{name}").save(scratch)
    back = SessionManifest.load(scratch)
    assert back.cameras == [entry] and back.source == f"é{name}"
    cams = Cameras([name], [[640, 480]], [[[500, 0, 320], [0, 500, 240], [0, 0, 1]]],
                   [[0.0] * 5])
    cams.to_toml(scratch / "cameras.toml")
    assert Cameras.from_toml(scratch / "cameras.toml").names == [name]


# ---- the same properties with many more examples ---------------------------------------------

SLOW_CASES = {  # property -> (strategy, check(folder, example))
    "keypoints_npz_mutated": (st.sampled_from([False, True]).flatmap(
        lambda c: mutated(GOOD_NPZ[c])), _load_npz_bytes),
    "keypoints_npz_wrong_contents": (near_valid_npz().map(lambda a: _npz_bytes(a, True)),
                                     _load_npz_bytes),
    "cameras_toml_mutated": (mutated(GOOD_CAMERAS_TEXT.encode()), _load_cameras_bytes),
    "cameras_toml_wrong_contents": (near_valid_cameras_text().map(str.encode),
                                    _load_cameras_bytes),
    "openpose_folders": (openpose_folders(), lambda _, f: _read_openpose_folders(f)),
    "manifest_mutated": (mutated(GOOD_MANIFEST.encode()), _load_manifest_bytes),
    "manifest_wrong_contents": (near_valid_manifest().map(str.encode), _load_manifest_bytes),
    "poses_npz_wrong_contents": (near_valid_poses().map(lambda a: _npz_bytes(a, False)),
                                 _load_poses_bytes),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SLOW_CASES))
def test_many_examples(name, tmp_path):
    """Each property above with SLOW's example count (and a random seed each run)."""
    strategy, check = SLOW_CASES[name]

    @SLOW
    @given(example=strategy)
    def run(example):
        check(tmp_path, example)

    run()
