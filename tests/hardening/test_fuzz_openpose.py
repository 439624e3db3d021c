"""Fuzzing `read_openpose` on folders of per-frame JSON files (see `tests.hardening.readers` for
the property).
"""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.hardening.readers import FAST, read_openpose_folders
from tests.hardening.strategies import GOOD_FRAME, openpose_folders


@FAST
@given(folders=openpose_folders())
def test_openpose_folders(folders):
    read_openpose_folders(folders)


@FAST
@given(size=st.lists(st.integers(-2**63, 2**63 - 1), min_size=2, max_size=2))
def test_openpose_image_size(size):
    read_openpose_folders([{"cam.0001.json": GOOD_FRAME}], tuple(size))


@pytest.mark.parametrize("folders", [
    [{"cam.0000.json": GOOD_FRAME, "cam.999999999999.json": GOOD_FRAME}],  # a vast timeline
    [{"cam.0001.json": b"[" * 100000}],  # nesting deeper than the recursion limit
    [{"cam.0001.json": b'{"people": [{"pose_keypoints_2d": [1e999, 1, 1]}]}'}],
])
def test_openpose_found_cases(folders):
    assert read_openpose_folders(folders) is None


def test_the_valid_openpose_folder_loads():
    assert read_openpose_folders([{"cam.0001.json": GOOD_FRAME}]) is not None
