"""The fuzzing properties of `test_fuzz_npz`, `test_fuzz_toml` and `test_fuzz_openpose` with
many more examples (`pytest -m slow tests/hardening`); the default runs keep `max_examples`
modest so they take seconds.
"""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.hardening.helpers import mutated
from tests.hardening.readers import (SLOW, load_cameras_toml, load_keypoints_npz, load_manifest,
                                     load_poses_npz, read_openpose_folders)
from tests.hardening.strategies import (GOOD_CAMERAS_TEXT, GOOD_MANIFEST, GOOD_NPZ,
                                        near_valid_cameras_text, near_valid_manifest,
                                        near_valid_npz, near_valid_poses, npz_bytes,
                                        openpose_folders)

SLOW_CASES = {  # property -> (strategy, check(folder, example))
    "keypoints_npz_mutated": (st.sampled_from([False, True]).flatmap(
        lambda c: mutated(GOOD_NPZ[c])), load_keypoints_npz),
    "keypoints_npz_wrong_contents": (near_valid_npz().map(lambda a: npz_bytes(a, True)),
                                     load_keypoints_npz),
    "cameras_toml_mutated": (mutated(GOOD_CAMERAS_TEXT.encode()), load_cameras_toml),
    "cameras_toml_wrong_contents": (near_valid_cameras_text().map(str.encode),
                                    load_cameras_toml),
    "openpose_folders": (openpose_folders(), lambda _, f: read_openpose_folders(f)),
    "manifest_mutated": (mutated(GOOD_MANIFEST.encode()), load_manifest),
    "manifest_wrong_contents": (near_valid_manifest().map(str.encode), load_manifest),
    "poses_npz_wrong_contents": (near_valid_poses().map(lambda a: npz_bytes(a, False)),
                                 load_poses_npz),
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
