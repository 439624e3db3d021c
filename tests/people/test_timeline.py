"""Matching without cameras for cameras started at different times, against synthetic truth."""
import numpy as np
import pytest

from epicap.errors import InputError
from epicap.joint_sets import get_joint_set
from epicap.people.timeline import (frame_shifts, match_on_timeline, to_camera_frames,
                                    to_common_frames)
from epicap.people.uncalibrated import match_uncalibrated
from epicap.synthetic import ring_rig
from epicap.synthetic.people import PeopleOptions, make_people_scene
from tests.people.scenes import identity_accuracy

OFFSETS = [0.0, 3.4, -5.2, 7.7]  # frames at 30 fps: a quarter of a second at most


def test_whole_frame_shifts_round_trip():
    shifts = frame_shifts([0.0, 3.4, -5.2, 7.7])
    assert shifts.tolist() == [5, 8, 0, 13]
    values = np.arange(4 * 6).reshape(4, 6)
    common = to_common_frames(values, shifts, -1)
    assert common.shape == (4, 6 + 13)
    assert common[1, 8:14].tolist() == values[1].tolist() and (common[1, :8] == -1).all()
    np.testing.assert_array_equal(to_camera_frames(common, shifts, 6), values)
    with pytest.raises(InputError, match="finite"):
        frame_shifts([0.0, np.nan])


def test_people_of_unsynchronized_cameras_are_matched_on_the_common_timeline():
    cams = ring_rig(4, 6.0, 2.0, 1000.0, (1280, 720), seed=3)
    scene = make_people_scene(cams, 150, PeopleOptions(num_people=3, noise_px=2.0, seed=3,
                                                       swap_fraction=0.02, offsets_frames=OFFSETS))
    flip = get_joint_set("coco17").flip_index
    m = match_on_timeline(scene.detections, cams.image_size, OFFSETS, flip_index=flip)
    assert m.assignment.shape == scene.slot_person.shape == m.swapped.shape
    acc, mapping = identity_accuracy(m.assignment, scene.slot_person)
    assert m.num_people == 3 and acc >= 0.99, (acc, mapping)
    # each camera's own frames: no identity changes hands within a camera
    for p, q in mapping.items():
        assert ((m.assignment == p) <= (scene.slot_person == q)).mean() > 0.999
    # on each camera's own frames the same people come out split (4 people, measured)
    plain = match_uncalibrated(scene.detections, cams.image_size, flip_index=flip)
    assert identity_accuracy(plain.assignment, scene.slot_person)[0] < acc
