import numpy as np

from epicap.people.tracklets import link_tracklets, tracklet_lengths
from tests.people.scenes import make_people_scene


def _pure(ids, truth):
    """Every tracklet covers one true person only (no identity switch inside a tracklet)."""
    for c in range(ids.shape[0]):
        for k in range(int(ids[c].max()) + 1):
            if len(np.unique(truth[c][ids[c] == k])) != 1:
                return False
    return True


def test_tracklets_follow_shuffled_slots_without_switches():
    s = make_people_scene(3, 3, num_frames=60)
    ids = link_tracklets(s.detections)
    assert ids.shape == s.truth.shape and ids.dtype == np.int32
    assert ((ids >= 0) == (s.truth >= 0)).all()
    assert _pure(ids, s.truth)
    # with nobody lost, each person is one tracklet in most cameras; where two people overlap in
    # the image (cam01 here sees them along one line) tracklets are cut rather than risk a swap
    counts = sorted(int(ids[c].max()) + 1 for c in range(3))
    assert counts[0] == counts[1] == 3 and counts[2] > 3, counts


def test_tracklets_break_at_an_occlusion():
    s = make_people_scene(2, 2, num_frames=60, lost={(0, 0): (20, 40)})
    ids = link_tracklets(s.detections)
    assert _pure(ids, s.truth)
    person0 = np.unique(ids[0][s.truth[0] == 0])
    assert len(person0) == 2  # before and after the 20 lost frames
    lengths = tracklet_lengths(ids)[0]
    assert sorted(lengths[person0].tolist()) == [20, 20]
