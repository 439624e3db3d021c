"""Sync of a several-person session: every person's motion is evidence, every person shifted."""
import numpy as np
import pytest

from epicap.capture import sync as S
from epicap.capture.sync_people import as_joints, from_joints
from epicap.session import Keypoints2D
from epicap.synthetic import ring_rig, write_session
from epicap.synthetic.people import PeopleOptions, make_people_scene

OFFSETS = [0.0, 3.0, -5.0, 2.0]


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    cams = ring_rig(4, 6.0, 2.0, 1000.0, (1280, 720))
    scene = make_people_scene(cams, 120, PeopleOptions(num_people=3, swap_fraction=0.0, seed=3,
                                                       offsets_frames=OFFSETS))
    path = tmp_path_factory.mktemp("sync") / "s"
    write_session(scene, path)
    return path, scene


def test_people_as_joints_round_trip():
    kp = np.random.default_rng(0).normal(size=(2, 5, 3, 17, 3))
    flat = as_joints(kp)
    assert flat.shape == (2, 5, 51, 3)
    np.testing.assert_array_equal(flat[:, :, 17 + 4], kp[:, :, 1, 4])  # person 1, joint 4
    np.testing.assert_array_equal(from_joints(flat, 3), kp)
    single = kp[:, :, 0]
    assert as_joints(single) is single and from_joints(single, None) is single


@pytest.mark.slow  # two keypoint syncs of 4 cameras x 51 joints: about 30 s each here
def test_offsets_from_every_person_applied_to_every_person(session):
    path, scene = session
    raw = Keypoints2D.from_npz(path / "keypoints2d.npz")
    # the people as they are (the file holds the true identities): the resampling alone
    result = S.sync_session(path, method="keypoints", rematch=False)
    assert result.people_rematched is None
    np.testing.assert_allclose(result.offset_frames, OFFSETS, atol=0.5)
    synced = Keypoints2D.from_npz(path / "keypoints2d.npz")
    assert synced.people == raw.people == ["p0", "p1", "p2"]
    assert synced.keypoints.shape[2:] == (3, 17, 3)
    first = S.read_sync(path / "sync.toml")["first_frame"]
    # the reference camera's frames are copied unchanged, for every person, `-first` rows on
    np.testing.assert_array_equal(synced.keypoints[0, -first:-first + 120], raw.keypoints[0])
    # camera 1 started 3 frames later: its frame i lands on common frame i + 3 (within a frame),
    # so person p's joints there agree with the clean truth of camera 1's frame i
    k = -first + int(round(result.offset_frames[1]))
    for p in range(3):
        got = synced.keypoints[1, k + 10:k + 100, p, :, :2]
        want = scene.points2d_clean[1, 10:100, p]
        assert np.nanmedian(np.linalg.norm(got - want, axis=-1)) < 4.0
    assert (path / "keypoints2d_raw.npz").is_file()
    again = S.sync_session(path, method="keypoints")  # reruns from the raw file
    np.testing.assert_allclose(again.offset_frames, result.offset_frames, atol=1e-9)
    # by default the people are matched again from detections2d.npz on the common timeline:
    # each one found is one true person on camera 1 (any order), the raw file untouched
    assert again.people_rematched == 3
    assert "people_rematched = 3" in (path / "sync.toml").read_text()
    assert Keypoints2D.from_npz(path / "keypoints2d_raw.npz").people == raw.people
    synced = Keypoints2D.from_npz(path / "keypoints2d.npz")
    first = S.read_sync(path / "sync.toml")["first_frame"]
    k = -first + int(round(again.offset_frames[1]))
    gaps = np.array([[np.nanmedian(np.linalg.norm(synced.keypoints[1, k + 10:k + 100, p, :, :2]
                                                  - scene.points2d_clean[1, 10:100, q], axis=-1))
                      for q in range(3)] for p in range(3)])
    assert sorted(gaps.argmin(1).tolist()) == [0, 1, 2] and (gaps.min(1) < 4.0).all()


def test_recorded_timestamps_shift_every_person(tmp_path):
    from epicap.session.manifest import CameraEntry, SessionManifest

    cams = ring_rig(2, 6.0, 2.0, 1000.0, (1280, 720))
    scene = make_people_scene(cams, 30, PeopleOptions(num_people=3, swap_fraction=0.0, seed=4))
    write_session(scene, tmp_path / "s")
    raw = Keypoints2D.from_npz(tmp_path / "s" / "keypoints2d.npz")
    (tmp_path / "s" / "timestamps").mkdir()
    entries = []
    for c, shift in enumerate([0.0, 2.0]):  # camera 2 started two frames later
        ts = 5.0 + (np.arange(30) + shift) / 30.0
        np.savetxt(tmp_path / "s" / "timestamps" / f"cam0{c + 1}.csv", ts, fmt="%.6f")
        entries.append(CameraEntry(f"cam0{c + 1}", 30.0, 30, 1280, 720,
                                   timestamps=f"timestamps/cam0{c + 1}.csv"))
    SessionManifest(entries).save(tmp_path / "s")
    # the scene itself is synchronous (only its timestamps say otherwise): keep its people
    result = S.sync_session(tmp_path / "s", rematch=False)
    assert result.offset_frames == pytest.approx([0.0, 2.0], abs=1e-3)
    synced = Keypoints2D.from_npz(tmp_path / "s" / "keypoints2d.npz")
    assert synced.people == ["p0", "p1", "p2"] and synced.keypoints.shape[:3] == (2, 32, 3)
    np.testing.assert_array_equal(synced.keypoints[0, :30], raw.keypoints[0])
    np.testing.assert_array_equal(synced.keypoints[1, 2:], raw.keypoints[1])  # all 3 people
    assert np.isnan(synced.keypoints[1, :2, :, :, 0]).all()


def _pair(first, second, offset, spread_px, fit_px, std=0.1):
    from epicap.capture.sync_tracks import PairOffset

    return PairOffset(first, second, offset, std, spread_px, offset, fit_px)


def test_a_candidate_one_geometry_cannot_explain_is_not_chosen():
    from epicap.capture.sync_epipolar import _choose

    # three people: the right offset fits one F down to the noise, strides off do not
    people = [_pair(0, 1, -34.5, 0.63, 2.32), _pair(0, 1, 3.4, 0.51, 0.79),
              _pair(0, 1, -1.2, 0.55, 2.9)]
    assert _choose(people).offset_frames == 3.4
    # a biased detector: no candidate fits to the noise, the fit says nothing about time and
    # the smallest offset among the quietest wins, as before
    biased = [_pair(0, 1, -72.99, 0.64, 7.49), _pair(0, 1, 2.9, 0.74, 6.21),
              _pair(0, 1, 78.85, 0.71, 4.75)]
    assert _choose(biased).offset_frames == 2.9


def test_pairs_that_fit_outvote_stride_errors_that_agree_round_a_triangle():
    from epicap.capture.sync_epipolar import _solve_trusting_fits, solve_offsets

    # measured on 3 unsynchronized people (true offsets 0, 3.4, -5.2, 7.7 frames): pairs (0, 2)
    # and (1, 3) had only stride-off candidates, and those agree with each other
    pairs = [_pair(0, 1, 3.38, 0.51, 0.79), _pair(0, 2, -43.2, 0.64, 4.76),
             _pair(0, 3, 7.7, 0.53, 0.83), _pair(1, 2, -8.65, 0.55, 0.84),
             _pair(1, 3, -33.78, 0.58, 4.68), _pair(2, 3, 12.81, 0.53, 0.81)]
    wrong, _ = solve_offsets(pairs, 4)
    assert abs(wrong[2] + 43.2) < 0.5  # all pairs alone: the stride errors win
    offsets, std = _solve_trusting_fits(pairs, 4, 0)
    np.testing.assert_allclose(offsets, [0.0, 3.4, -5.2, 7.7], atol=0.1)
    assert np.isfinite(std).all()


@pytest.mark.slow  # matching without cameras and a keypoint sync of 4 cameras x 51 joints
def test_unsynchronized_people_matched_without_cameras_are_synced():
    from epicap.capture.sync_epipolar import estimate_offsets
    from epicap.joint_sets import get_joint_set
    from epicap.people import gather, unswap
    from epicap.people.uncalibrated import match_uncalibrated

    truth = np.array([0.0, 3.4, -5.2, 7.7])
    cams = ring_rig(4, 6.0, 2.0, 1000.0, (1280, 720), seed=2)
    scene = make_people_scene(cams, 150, PeopleOptions(num_people=3, noise_px=2.0, seed=2,
                                                       swap_fraction=0.02, offsets_frames=truth))
    flip = get_joint_set("coco17").flip_index
    m = match_uncalibrated(scene.detections, cams.image_size, flip_index=flip)
    kp = gather(unswap(scene.detections, m.swapped, flip), m.assignment, m.num_people)
    result = estimate_offsets(as_joints(kp), 30.0, cams.names)
    np.testing.assert_allclose(result.offset_frames, truth, atol=0.3)  # was -43 and -30 frames


APART = [0.0, 96.4, 4.2, -7.7]  # frames at 30 fps: camera 1 started 3.2 s after the others


@pytest.fixture(scope="module")
def apart(tmp_path_factory):
    cams = ring_rig(4, 6.0, 2.0, 1000.0, (1280, 720), seed=2)
    scene = make_people_scene(cams, 400, PeopleOptions(num_people=3, noise_px=2.0, seed=2,
                                                       offsets_frames=APART))
    path = tmp_path_factory.mktemp("apart") / "s"
    write_session(scene, path)
    return path, scene


def test_people_of_cameras_started_further_apart_than_detect_searched_are_matched_again(apart):
    """Beyond detect's 2 s search camera 1's offset is not found; `--max-offset 3.5` searches
    that far and matches everyone again there."""
    from epicap.capture.sync_people import match_apart
    from epicap.session.detections2d import Detections2D

    path, scene = apart
    kp = Keypoints2D.from_npz(path / "keypoints2d.npz")
    det = Detections2D.from_npz(path / "detections2d.npz")
    again, coarse = match_apart(kp, det, 2.0)  # the others found, camera 1 not
    assert abs(coarse.offsets_frames[1] - APART[1]) > 30
    # 3.5 s: person 0 walks a lap of 3.77 s, almost exactly 3 gait cycles (2.98), and comes back
    # to the same place in the same pose: at 4 s a camera one lap off fitted as well (camera 3
    # at +105 frames on this scene)
    again, coarse = match_apart(kp, det, 3.5)
    assert coarse.applied
    np.testing.assert_allclose(coarse.offsets_frames, APART, atol=2.0)
    assert again.people == ["p0", "p1", "p2"]
    # each person found is one true person in camera 1's own frames (any order)
    gaps = np.array([[np.nanmedian(np.linalg.norm(again.keypoints[1, 10:390, p, :, :2]
                                                  - scene.points2d_clean[1, 10:390, q], axis=-1))
                      for q in range(3)] for p in range(3)])
    assert sorted(gaps.argmin(1).tolist()) == [0, 1, 2] and (gaps.min(1) < 4.0).all(), gaps


def test_offsets_the_people_were_matched_at_are_refined_from_there(apart):
    """The walkers' steps repeat: searched over 4 s by correlation, camera 1 came out a gait
    cycle early (-17.6 frames) at confidence 1. From the offsets the people were matched at
    (detections2d.npz's matched_offsets_frames, as detect writes them) each is refined."""
    from epicap.keypoints.everyone import record_matched_offsets
    from epicap.session.detections2d import Detections2D

    path, _ = apart
    det = Detections2D.from_npz(path / "detections2d.npz")
    assert det.matched_offsets is None

    class Matched:  # what `match_people` returns, as far as the record reads it
        offsets_frames = np.array([0, 96, 3, -9])

    record_matched_offsets(path / "detections2d.npz", det, Matched())
    assert Detections2D.from_npz(path / "detections2d.npz").matched_offsets.tolist() == \
        [0, 96, 3, -9]
    result = S.sync_session(path, method="keypoints")  # 2 s: the recorded offsets are used
    np.testing.assert_allclose(result.offset_frames, APART, atol=0.3)
    assert min(c.confidence for c in result.cameras) > 0.9
    assert result.people_rematched == 3


def test_one_walker_circling_gives_offsets_a_stride_apart_and_says_which():
    """One person walking a circle with the same steps: a stride later (38 frames) is the same
    pose turned about the circle's centre, which a turned camera would also see, and the joint
    solution can settle on it. Every offset that is wrong comes out as a guess, with the right
    one among those that fit as well."""
    cams = ring_rig(4, 6.0, 2.0, 1000.0, (1280, 720), seed=2)
    truth = np.array([0.0, 3.4, -5.2, 7.7])
    scene = make_people_scene(cams, 400, PeopleOptions(num_people=1, noise_px=2.0, seed=2,
                                                       offsets_frames=truth))
    kp = scene.keypoints.keypoints  # one person: the single-person shapes (C, T, J, 3)
    result = S.estimate_offsets(kp, 30.0, cams.names)
    wrong = np.abs(result.offset_frames - truth) > 1.0
    assert wrong.any()  # the ambiguity this test is about
    lines = result.warnings()
    for c, cam in enumerate(result.cameras):
        if wrong[c]:
            assert cam.confidence < 0.5 and cam.rivals_frames, cam
            assert min(abs(r - truth[c]) for r in cam.rivals_frames) < 1.0, cam
            assert any(cam.name in line and "is a guess" in line for line in lines)
        else:
            assert not cam.rivals_frames, cam  # nearer 0 than its rivals: kept as it is
