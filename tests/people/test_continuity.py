"""Pieces of an id that the cameras' tracklets continue as another id: against the truth of
synthetic scenes, with the true cameras' fundamental matrices."""
import numpy as np

from epicap.people.continuity import rejoin_pieces
from epicap.people.tracklets import link_tracklets
from tests.people.scenes import identity_accuracy, make_people_scene
from tests.people.test_uncalibrated import _fundamentals


def _early_piece_taken(s, cameras):
    """The truth with person 1's detections before frame 50 in `cameras` given person 2's id
    (person 2 enters at frame 50): what a tracklet carried from person 1 onto person 2 leaves
    behind at the timeline's edge."""
    wrong = s.truth.copy()
    for c in cameras:
        early = wrong[c, :50] == 1
        wrong[c, :50][early] = 2
    return wrong


def test_an_early_piece_joins_the_id_its_tracklets_continue_as():
    s = make_people_scene(3, 4, present={2: (50, 150)})
    wrong = _early_piece_taken(s, [0, 1])
    assert identity_accuracy(wrong, s.truth)[0] < 0.95
    fixed, P = rejoin_pieces(s.detections, wrong, 3, link_tracklets(s.detections),
                             _fundamentals(s.cameras, 13.0))
    acc, mapping = identity_accuracy(fixed, s.truth)
    assert P == 3 and acc == 1.0 and sorted(mapping.values()) == [0, 1, 2]


def test_one_cameras_tracklet_is_not_enough_and_a_right_matching_is_left_alone():
    s = make_people_scene(3, 4, present={2: (50, 150)})
    tracklets = link_tracklets(s.detections)
    F = _fundamentals(s.cameras, 13.0)
    # only camera 0 continues the piece as person 1: one vote, kept as it is
    wrong = _early_piece_taken(s, [0])
    kept, P = rejoin_pieces(s.detections, wrong, 3, tracklets, F)
    assert P == 3 and (kept == wrong).all()
    # the truth has no id in pieces
    same, P = rejoin_pieces(s.detections, s.truth, 3, tracklets, F)
    assert P == 3 and (same == s.truth).all()


def test_a_person_hidden_from_every_camera_keeps_one_id():
    """Person 1 unseen by all cameras for frames 60-90: two pieces of one id that no tracklet
    continues as anyone else; they stay one id."""
    lost = {(c, 1): (60, 90) for c in range(4)}
    s = make_people_scene(3, 4, lost=lost)
    same, P = rejoin_pieces(s.detections, s.truth, 3, link_tracklets(s.detections),
                            _fundamentals(s.cameras, 13.0))
    assert P == 3 and (same == s.truth).all()


def test_cameras_started_apart_keep_every_identity():
    """Six cameras started up to 1.9 s apart, four people, one entering halfway: person 1 is
    first seen only by the cameras started early. Before the rejoining, those cameras gave
    them the id of the person who enters later (2 identity switches)."""
    from epicap.joint_sets import get_joint_set
    from epicap.people.timeline import match_on_timeline
    from epicap.synthetic import ring_rig
    from epicap.synthetic.people import PeopleOptions
    from epicap.synthetic.people import make_people_scene as make_scene

    cams = ring_rig(6, 6.0, 2.0, 1000.0, (1280, 720), seed=2)
    offsets = np.array([0.0, 27.4, -21.2, 29.7, -12.6, 18.1])
    s = make_scene(cams, 150, PeopleOptions(num_people=4, noise_px=2.0, swap_fraction=0.02,
                                            offsets_frames=offsets, seed=2))
    m = match_on_timeline(s.detections, cams.image_size, np.round(offsets),
                          flip_index=get_joint_set("coco17").flip_index)
    assert m.num_people == 4
    acc, mapping = identity_accuracy(m.assignment, s.slot_person)
    assert acc >= 0.99 and len(mapping) == 4


def test_a_bystander_hidden_from_every_camera_gets_their_id_back():
    """The still bystander (person 3) unseen by every camera for frames 60-80, longer than a
    tracklet bridges, and back as a new id: the new id is merged into the old one."""
    from epicap.people.continuity import rejoin_over_gaps

    s = make_people_scene(3, 4, bystander=True, lost={(c, 3): (60, 80) for c in range(4)})
    split = s.truth.copy()
    split[:, 80:][split[:, 80:] == 3] = 4
    merged, P = rejoin_over_gaps(s.detections, split, 5)
    acc, mapping = identity_accuracy(merged, s.truth)
    assert P == 4 and acc == 1.0 and sorted(mapping.values()) == [0, 1, 2, 3]
    # a gap longer than allowed is not bridged
    kept, P = rejoin_over_gaps(s.detections, split, 5, max_gap_frames=15)
    assert P == 5 and identity_accuracy(kept, s.truth)[0] < 1.0


def test_someone_leaving_and_someone_else_entering_stay_two():
    """Person 1 leaves at frame 70 and person 2 enters at frame 80, elsewhere in the room."""
    from epicap.people.continuity import rejoin_over_gaps

    s = make_people_scene(3, 4, present={1: (0, 70), 2: (80, 150)})
    kept, P = rejoin_over_gaps(s.detections, s.truth, 3)
    assert P == 3 and (kept == s.truth).all()
