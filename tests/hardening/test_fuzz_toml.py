"""Fuzzing `Cameras.from_toml` and `SessionManifest.load` (see `tests.hardening.readers` for the
property), and the round trip of the names and paths their writers accept.
"""
from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from epicap.errors import InputError
from epicap.session import Cameras
from epicap.session.manifest import SessionManifest
from tests.hardening.helpers import mutated, toml_table
from tests.hardening.readers import FAST, load_cameras_toml, load_manifest
from tests.hardening.strategies import (GOOD_CAMERA, GOOD_CAMERAS_TEXT, GOOD_ENTRY, GOOD_MANIFEST,
                                        camera_name_texts, cameras_text, manifest_text,
                                        near_valid_cameras_text, near_valid_manifest)


@FAST
@given(data=st.binary(max_size=1024))
def test_cameras_toml_arbitrary_bytes(scratch, data):
    load_cameras_toml(scratch, data)


@FAST
@given(data=mutated(GOOD_CAMERAS_TEXT.encode()))
def test_cameras_toml_mutated(scratch, data):
    load_cameras_toml(scratch, data)


@FAST
@given(text=near_valid_cameras_text())
def test_cameras_toml_wrong_contents(scratch, text):
    load_cameras_toml(scratch, text.encode())


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
    assert load_cameras_toml(scratch, text.encode()) is None


def test_the_valid_cameras_load(scratch):
    assert load_cameras_toml(scratch, GOOD_CAMERAS_TEXT.encode()) is not None


@FAST
@given(data=st.binary(max_size=1024))
def test_manifest_arbitrary_bytes(scratch, data):
    load_manifest(scratch, data)


@FAST
@given(data=mutated(GOOD_MANIFEST.encode()))
def test_manifest_mutated(scratch, data):
    load_manifest(scratch, data)


@FAST
@given(text=near_valid_manifest())
def test_manifest_wrong_contents(scratch, text):
    load_manifest(scratch, text.encode())


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
    assert load_manifest(scratch, text.encode()) is None


def test_manifest_deep_nesting(scratch):
    assert load_manifest(scratch, b"version = 1\na = " + b"[" * 5000 + b"]" * 5000) is None


def test_the_valid_manifest_loads(scratch):
    (scratch / "timestamps").mkdir(exist_ok=True)
    (scratch / "timestamps" / "cam01.csv").write_text("0.0\n0.033\n")
    (scratch / "timestamps" / "cam02.csv").write_text("0.0\n0.033\n")
    assert load_manifest(scratch, GOOD_MANIFEST.encode()) is not None



@FAST
@given(name=camera_name_texts, video=st.text(st.characters(blacklist_characters="\x00/",
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
