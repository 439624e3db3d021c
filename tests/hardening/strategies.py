"""Inputs for fuzzing the readers: a valid base of each user file and hypothesis strategies for
near-valid variants (wrong dtypes, shapes and values; NaN, inf, huge or negative sizes; unicode,
empty and hostile names and paths). Mutations of raw bytes come from `helpers.mutated`.
"""
from __future__ import annotations

import io
import json

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from epicap.joint_sets import get_joint_set
from tests.hardening.helpers import mutated, toml_table, toml_values

COCO = get_joint_set("coco17")


# ---- keypoints2d.npz -------------------------------------------------------------------------


def good_npz(C=2, T=3) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    kp = np.concatenate([rng.uniform(0, 600, (C, T, 17, 2)), rng.uniform(0, 1, (C, T, 17, 1))],
                        -1).astype(np.float32)
    return {"keypoints": kp, "cameras": np.array([f"cam{i + 1:02d}" for i in range(C)]),
            "joints": np.array(COCO.joints), "joint_set": np.array("coco17"),
            "image_size": np.tile([640, 480], (C, 1)), "fps": np.array(30.0)}


def npz_bytes(arrays: dict, compressed: bool) -> bytes:
    buf = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buf, **arrays)
    return buf.getvalue()


GOOD_NPZ = {c: npz_bytes(good_npz(), c) for c in (False, True)}
DTYPES = ["f4", "f8", "f2", "i8", "i4", "u1", "u8", "?", "c8", "U6", "S4"]
any_array = st.sampled_from(DTYPES).flatmap(lambda dt: hnp.arrays(
    dt, hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=3)))
floats_any = st.floats(allow_nan=True, allow_infinity=True, width=32)


# text a numpy "U" array can hold: it drops trailing NUL characters, which hypothesis refuses
_NPZ_TEXT = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)),
                    max_size=8)


@st.composite
def near_valid_npz(draw) -> dict[str, np.ndarray]:
    """A keypoints2d.npz mostly right: every key the contract's or a hostile variant, or absent."""
    C, T = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    good = good_npz(max(C, 1), max(T, 1))
    variants = {
        "keypoints": [hnp.arrays(np.float32, (C, T, draw(st.sampled_from([17, 16, 33])), 3),
                                 elements=st.one_of(floats_any, st.floats(0, 1, width=32))),
                      hnp.arrays(np.float64, (C, T, 17, 3), elements=st.floats(-1e40, 1e40))],
        "cameras": [hnp.arrays(np.dtype("U8"), (C,), elements=_NPZ_TEXT),
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


# ---- poses3d.npz (read by view, report, export) ---------------------------------------------


def good_poses(T=3) -> dict[str, np.ndarray]:
    J = len(get_joint_set("h36m17"))
    rng = np.random.default_rng(1)
    return {"poses": rng.normal(0, 1, (T, J, 3)).astype(np.float32),
            "reprojection_error": rng.uniform(0, 3, (T, J)).astype(np.float32),
            "views": np.full((T, J), 3, np.uint8),
            "joints": np.array(get_joint_set("h36m17").joints), "joint_set": np.array("h36m17"),
            "fps": np.array(30.0)}


GOOD_POSES = npz_bytes(good_poses(), True)


@st.composite
def near_valid_poses(draw) -> dict[str, np.ndarray]:
    out = {}
    for key, value in good_poses(draw(st.integers(0, 3))).items():
        choice = draw(st.sampled_from(["good", "good", "good", "any", "absent"]))
        if choice == "good":
            out[key] = value
        elif choice == "any":
            out[key] = draw(any_array)
    return out


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


# ---- OpenPose JSON folders -------------------------------------------------------------------


def person_keypoints(rng, count=25) -> list[float]:
    xy = rng.uniform(100, 500, (count, 2))
    return np.concatenate([xy, rng.uniform(0.2, 1, (count, 1))], 1).reshape(-1).tolist()


GOOD_FRAME = json.dumps({"version": 1.3, "people": [
    {"person_id": [-1], "pose_keypoints_2d": person_keypoints(np.random.default_rng(0))}]}).encode()
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


# ---- camera names ------------------------------------------------------------------------------

camera_name_texts = st.one_of(
    st.text(max_size=10),
    st.sampled_from(["cam 01", "é", "cam😀", "a\x7fb", "..", "a/b", "c\\d", "x" * 300, "\udcff"]))
