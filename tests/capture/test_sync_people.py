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
    result = S.sync_session(path, method="keypoints")
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
    result = S.sync_session(tmp_path / "s")
    assert result.offset_frames == pytest.approx([0.0, 2.0], abs=1e-3)
    synced = Keypoints2D.from_npz(tmp_path / "s" / "keypoints2d.npz")
    assert synced.people == ["p0", "p1", "p2"] and synced.keypoints.shape[:3] == (2, 32, 3)
    np.testing.assert_array_equal(synced.keypoints[0, :30], raw.keypoints[0])
    np.testing.assert_array_equal(synced.keypoints[1, 2:], raw.keypoints[1])  # all 3 people
    assert np.isnan(synced.keypoints[1, :2, :, :, 0]).all()
