"""Fuzzing `Keypoints2D.from_npz` and `Poses3D.from_npz` (see `tests.hardening.readers` for the
property): arbitrary bytes, a valid file with random edits, valid containers with wrong contents,
and the inputs the fuzzer found.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from epicap.errors import InputError
from epicap.session import Keypoints2D
from tests.hardening.helpers import mutated
from tests.hardening.readers import FAST, load_keypoints_npz, load_poses_npz
from tests.hardening.strategies import (GOOD_NPZ, GOOD_POSES, good_npz, good_poses, near_valid_npz,
                                        near_valid_poses, npz_bytes)


@FAST
@given(data=st.binary(max_size=2048))
def test_keypoints_npz_arbitrary_bytes(scratch, data):
    load_keypoints_npz(scratch, data)


@FAST
@given(data=st.sampled_from([False, True]).flatmap(lambda c: mutated(GOOD_NPZ[c])))
def test_keypoints_npz_mutated(scratch, data):
    load_keypoints_npz(scratch, data)


@FAST
@given(arrays=near_valid_npz(), compressed=st.booleans())
def test_keypoints_npz_wrong_contents(scratch, arrays, compressed):
    load_keypoints_npz(scratch, npz_bytes(arrays, compressed))


def test_keypoints_npz_never_unpickles(scratch):
    arrays = good_npz()
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
    assert load_keypoints_npz(scratch, bytes(data)) is None


@pytest.mark.parametrize("change", [
    {"keypoints": good_npz()["keypoints"][:, :, :16]},  # 16 joints under coco17's 17 names
    {"keypoints": np.zeros((2, 0, 17, 3), np.float32)},  # no frames
    {"image_size": np.array([[2**40, 480], [640, 480]])},  # not a camera
    {"cameras": np.array(["../up", "cam02"])},  # a name that would be a path
    {"fps": np.array([30.0, 60.0])},
])
def test_keypoints_npz_found_cases(scratch, change):
    """Inputs the fuzzer found (each once loaded as garbage)."""
    assert load_keypoints_npz(scratch, npz_bytes({**good_npz(), **change}, True)) is None


def test_the_valid_npz_loads(scratch):
    """The mutation base is itself valid (so the mutation tests start from a good file)."""
    for data in GOOD_NPZ.values():
        assert load_keypoints_npz(scratch, data) is not None


@FAST
@given(data=mutated(GOOD_POSES))
def test_poses_npz_mutated(scratch, data):
    load_poses_npz(scratch, data)


@FAST
@given(arrays=near_valid_poses())
def test_poses_npz_wrong_contents(scratch, arrays):
    load_poses_npz(scratch, npz_bytes(arrays, False))


@pytest.mark.parametrize("change", [{"fps": np.array([30.0, 60.0])},
                                    {"joint_set": np.array(["h36m17", "x"])},
                                    {"views": np.full((3, 17), 300)}])
def test_poses_npz_found_cases(scratch, change):
    assert load_poses_npz(scratch, npz_bytes({**good_poses(), **change}, False)) is None


def test_the_valid_poses_load(scratch):
    assert load_poses_npz(scratch, GOOD_POSES) is not None
