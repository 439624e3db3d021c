"""Time offsets: known synthetic truth, resampling rules, timestamps, the session files."""
import tomllib

import numpy as np
import pytest

from epicap.capture import sync as S
from epicap.errors import InputError
from epicap.joint_sets import get_joint_set
from epicap.session import Keypoints2D
from tests.capture.sync_scene import offset_keypoints

TRUTH = [0.0, -7.0, 3.0, 12.4]


@pytest.mark.parametrize("noise_px", [1.0, 2.0])
def test_recovers_known_offsets_within_half_a_frame(noise_px):
    kp = offset_keypoints(TRUTH, frames=240, noise_px=noise_px)
    result = S.estimate_offsets(kp, 60.0, ["a", "b", "c", "d"])
    err = result.offset_frames - TRUTH
    assert np.abs(err).max() < 0.5, err  # measured <= 0.14 (1 px) and <= 0.3 (3 px)
    assert [c.method for c in result.cameras] == ["reference"] + ["keypoints"] * 3
    assert all(0.9 < c.confidence <= 1 for c in result.cameras), result.cameras
    assert np.allclose([c.offset_s for c in result.cameras], result.offset_frames / 60.0)


def test_recovers_offsets_despite_detector_bias():
    """Real mocap (walk) in a ring rig, a constant 8 px bias per camera and joint, 1 px noise."""
    from epicap.synthetic import SceneOptions, load_clip, make_scene, ring_rig

    clip = load_clip("walk", fps=60, num_frames=240, turn_deg_per_s=40)
    scene = make_scene(clip, ring_rig(4), SceneOptions(noise_px=1.0, bias_px=8.0,
                                                       offsets_frames=TRUTH, seed=3))
    result = S.estimate_offsets(scene.keypoints.keypoints, 60.0, scene.keypoints.cameras)
    err = result.offset_frames - TRUTH
    assert np.abs(err).max() < 0.5, err
    assert min(c.confidence for c in result.cameras) > 0.9, result.cameras


def test_busiest_window_is_the_stretch_with_the_most_joints():
    from epicap.capture.sync_epipolar import busiest_window

    kp = np.zeros((2, 50, 3, 3))
    kp[0, 10:20, :, 2] = 1.0                    # camera 0 sees everyone in frames 10-19
    kp[1, 30:34, :2, 2] = 1.0                   # camera 1 sees two joints in frames 30-33
    kp[1, 12:15, 0, 2] = np.nan                 # a missing joint counts as unseen
    assert busiest_window(kp, 8) == (10, 18)    # the earliest of the best stretches
    assert busiest_window(kp, 30) == (4, 34)
    assert busiest_window(kp, 60) == (0, 50)    # shorter than the window: all of it


def test_a_long_recording_is_searched_on_its_busiest_stretch(monkeypatch):
    """Cutting every camera at the same frames leaves the offsets as they are: the same offsets
    from a 3 s window of an 8 s recording as from all of it, and the search sees 3 s."""
    from epicap.capture import sync_epipolar

    kp = offset_keypoints(TRUTH, frames=480, noise_px=1.0, seed=4)
    kp[:, :100, :, :2] = np.nan                 # nobody in view for the first 100 frames
    kp[:, :100, :, 2] = 0.0
    lengths = []
    real = sync_epipolar.refine_pair

    def spy(reference, moving, centre, fps, options=None):
        lengths.append(len(reference))
        return real(reference, moving, centre, fps, options)

    monkeypatch.setattr(sync_epipolar, "refine_pair", spy)
    options = S.SyncOptions(window_s=3.0, max_offset_s=0.5)
    windowed = S.estimate_offsets(kp, 60.0, ["a", "b", "c", "d"], options=options)
    assert set(lengths) == {180}
    lengths.clear()
    whole = S.estimate_offsets(kp, 60.0, ["a", "b", "c", "d"],
                               options=S.SyncOptions(window_s=0.0, max_offset_s=0.5))
    assert set(lengths) == {480}
    assert np.abs(windowed.offset_frames - TRUTH).max() < 0.3, windowed.offset_frames
    assert np.abs(whole.offset_frames - TRUTH).max() < 0.3, whole.offset_frames


def test_refine_pair_finds_the_true_offset_from_a_wrong_start():
    kp = offset_keypoints([0.0, 5.0], frames=180, noise_px=0.5)
    for start in (3.0, 5.0, 7.0):  # the window follows the minimum beyond +-2 frames
        pair = S.refine_pair(S.smooth_tracks(kp[0], 2.0), S.smooth_tracks(kp[1], 2.0), start, 60.0)
        assert pair.offset_frames == pytest.approx(5.0, abs=0.15), (start, pair)
        assert 0 < pair.std_frames < 0.2 and pair.coarse_frames == start


def test_solve_offsets_outvotes_a_wrong_pair():
    truth = np.array([0.0, 2.0, -3.0, 5.5])
    pairs = [S.PairOffset(i, j, truth[j] - truth[i], 0.1, 1.0, 0.0)
             for i in range(4) for j in range(i + 1, 4)]
    pairs[3].offset_frames += 40.0  # (1, 2) caught in a wrong minimum
    offsets, std = S.solve_offsets(pairs, 4)
    np.testing.assert_allclose(offsets, truth, atol=0.02)
    assert std[0] == 0 and (std[1:] > 0.03).all() and (std[1:] < 0.2).all()
    offsets, std = S.solve_offsets(pairs[:1], 4)  # cameras 2, 3 are not reached
    assert offsets[1] == pytest.approx(2.0) and np.isnan(offsets[2:]).all()


def test_solve_offsets_outvotes_two_pairs_on_the_wrong_stride():
    """Two pairs a walking period off make two of the three paths to camera 3 agree on a wrong
    value (measured on a walk: the median of paths took it); most pairs still agree on the
    truth."""
    truth = np.array([0.0, -7.0, 3.0, 12.4])
    pairs = [S.PairOffset(i, j, truth[j] - truth[i], 0.1, 1.0, 0.0)
             for i in range(4) for j in range(i + 1, 4)]
    pairs[1].offset_frames -= 76.0  # (0, 2)
    pairs[4].offset_frames -= 76.0  # (1, 3)
    offsets, _ = S.solve_offsets(pairs, 4)
    np.testing.assert_allclose(offsets, truth, atol=0.02)


def test_confidence_means_within_half_a_frame():
    """Confidence = P(|error| < 0.5): high on clean data, and lower where the data are noisier."""
    clean = S.estimate_offsets(offset_keypoints([0.0, 4.0], frames=240, noise_px=0.5), 60.0,
                               ["a", "b"])
    noisy = S.estimate_offsets(offset_keypoints([0.0, 4.0], frames=60, noise_px=4.0), 60.0,
                               ["a", "b"])
    assert clean.cameras[1].confidence > 0.99 and clean.cameras[1].std_frames < 0.1
    assert noisy.cameras[1].std_frames > clean.cameras[1].std_frames
    assert noisy.cameras[1].confidence < clean.cameras[1].confidence


def test_coarse_lag_of_a_shifted_signal():
    rng = np.random.default_rng(0)
    base = np.convolve(rng.normal(size=400), np.ones(5) / 5, mode="same")
    ref, moving = base[50:250, None], base[59:259, None]  # moving[i] = ref[i + 9]
    lag, peak = S.coarse_lag(ref, moving, 30)
    assert lag == pytest.approx(9.0, abs=0.1) and peak > 0.99
    assert np.isnan(S.coarse_lag(ref[:5], moving[:5], 3)[0])


def test_sample_at_interpolates_only_between_present_frames():
    kp = np.zeros((4, 1, 3))
    kp[:, 0, 0] = [0.0, 10.0, 20.0, 30.0]
    kp[:, 0, 2] = 1.0
    kp[2] = (np.nan, np.nan, 0.0)
    out = S.sample_at(kp, np.array([1.0, 0.5, 1.5, 2.0, 2.5, 3.0, 3.5, -0.5]))
    assert out[0, 0, 0] == 10.0 and out[1, 0, 0] == 5.0
    assert np.isnan(out[2:5, 0, 0]).all() and (out[2:5, 0, 2] == 0).all()  # next to the gap
    assert out[5, 0, 0] == 30.0 and np.isnan(out[6:, 0, 0]).all()  # outside: missing


def test_resample_union_timeline_without_bridging_gaps():
    kp = np.zeros((2, 6, 1, 3), np.float32)
    kp[..., 0] = np.arange(6)[None, :, None] * 10.0
    kp[..., 2] = 1.0
    # camera 1 dropped its frame 3: its times jump from 2 to 4 (timestamps), no interpolation
    times = [np.arange(6.0) + 2.0, np.array([0.0, 1.0, 2.0, 4.0, 5.0])]
    out, first = S.resample_to_timeline(kp, times)
    assert first == 0 and out.shape == (2, 8, 1, 3)
    assert np.isnan(out[0, :2, 0, 0]).all() and out[0, 2, 0, 0] == 0.0  # camera 0 starts late
    assert np.isnan(out[1, 3, 0, 0]) and out[1, 3, 0, 2] == 0.0  # the gap stays a gap
    assert out[1, 4, 0, 0] == 30.0
    half, _ = S.resample_to_timeline(kp[:1], [np.arange(6.0) + 0.5])
    assert half[0, 1, 0, 0] == pytest.approx(5.0)  # common frame 1 = camera frame 0.5


def test_resampling_does_not_blend_a_left_right_swap():
    # a walker's left and right ankles, 30 px apart, moving 3 px a frame; the detector swaps
    # them in frames 10-14
    T = 30
    kp = np.zeros((1, T, 2, 3), np.float32)
    kp[0, :, 0, 0] = 100 + 3.0 * np.arange(T)
    kp[0, :, 1, 0] = 130 + 3.0 * np.arange(T)
    kp[0, :, :, 1], kp[0, :, :, 2] = 500.0, 1.0
    kp[0, 10:15] = kp[0, 10:15, ::-1]
    out, _ = S.resample_to_timeline(kp, [np.arange(T) + 0.25])  # common frame k: camera k - 0.25
    left = out[0, :, 0, 0]
    # smooth motion is still interpolated: common frame 5 = camera frame 4.75
    assert left[5] == pytest.approx(100 + 3.0 * 4.75)
    # next to the swap each joint comes whole from the nearer frame, never from half of each
    # (camera frames 9.75 and 14.75: frames 10 and 15, swapped and straight)
    assert left[10] == pytest.approx(kp[0, 10, 0, 0]) and left[15] == pytest.approx(kp[0, 15, 0, 0])
    plain = S.sample_at(kp[0], np.array([9.75]))  # the offset search still blends
    assert plain[0, 0, 0] == pytest.approx(0.25 * kp[0, 9, 0, 0] + 0.75 * kp[0, 10, 0, 0])


def test_resampling_keeps_a_swapped_person_whole():
    # two coco17 people walking 12 px a frame; the first turned sideways (left and right 5 px
    # apart at the head and shoulders, under the per-joint jump limit, 60 px at the hips and
    # below), the detector swaps them in frames 10-14. Common frame k is camera frame k - 0.25.
    skel = get_joint_set("coco17")
    flip = skel.flip_index
    J, T = len(flip), 30
    rng = np.random.default_rng(0)
    base = rng.uniform(200, 600, (2, J, 2))
    apart = np.where(np.arange(J) < 11, 5.0, 60.0)
    sided = flip != np.arange(J)
    left = sided & (np.arange(J) % 2 == 1)                  # coco17: odd joints are the left
    base[:, flip[left], 0] = base[:, left, 0] + apart[left]
    base[:, flip[left], 1] = base[:, left, 1]
    kp = np.ones((1, T, 2, J, 3), np.float32)
    kp[0, :, :, :, :2] = base[None] + (12.0 * np.arange(T))[:, None, None, None]
    kp[0, 10:15, 0] = kp[0, 10:15, 0][:, flip]
    times = [np.arange(T) + 0.25]
    plain, _ = S.resample_to_timeline(kp.reshape(1, T, 2 * J, 3), times)
    whole, _ = S.resample_to_timeline(kp.reshape(1, T, 2 * J, 3), times, flip)
    plain, whole = plain.reshape(-1, 2, J, 3), whole.reshape(-1, 2, J, 3)
    # common frame 10 = camera frame 9.75: frame 10's labels (swapped), moved as the body moves
    expect = 0.25 * kp[0, 9, 0][flip, :2] + 0.75 * kp[0, 10, 0, :, :2]
    np.testing.assert_allclose(whole[10, 0, :, :2], expect, atol=1e-3)
    # without the joint set, the close joints are blended: half of a swap
    assert np.abs(plain[10, 0, :11, :2] - expect[:11]).max() > 1.0
    # the second person, never swapped, is interpolated as before
    np.testing.assert_allclose(whole[10, 1], plain[10, 1], atol=1e-4)
    np.testing.assert_allclose(whole[:, 1, :, 0], plain[:, 1, :, 0], atol=1e-4)


def test_offsets_from_timestamps_ignore_a_late_frame():
    fps = 30.0
    ts0 = np.arange(100) / fps + 1000.0
    ts1 = np.arange(100) / fps + 1000.0 + 4.25 / fps
    ts1[50] += 0.4 / fps  # one late frame
    result = S.offsets_from_timestamps([ts0, ts1], fps, ["a", "b"])
    assert result.offset_frames == pytest.approx([0.0, 4.25], abs=1e-6)
    assert [c.method for c in result.cameras] == ["reference", "timestamps"]


def _session(tmp_path, offsets, frames=240):
    kp = offset_keypoints(offsets, frames=frames, noise_px=1.0)
    names = [f"cam{c + 1:02d}" for c in range(len(offsets))]
    k2d = Keypoints2D(kp, names, "coco17", [[1280, 720]] * len(offsets), 60.0)
    k2d.save(tmp_path / "keypoints2d.npz")
    return k2d


def test_sync_session_writes_offsets_and_keeps_the_raw_keypoints(tmp_path):
    raw = _session(tmp_path, [0.0, 3.0, -7.0])
    result = S.sync_session(tmp_path)
    assert np.abs(result.offset_frames - [0.0, 3.0, -7.0]).max() < 0.5
    doc = tomllib.loads((tmp_path / "sync.toml").read_text())
    assert doc["reference"] == "cam01" and set(doc["cameras"]) == {"cam01", "cam02", "cam03"}
    assert doc["cameras"]["cam03"]["offset_frames"] == pytest.approx(-7.0, abs=0.5)
    assert doc["cameras"]["cam02"]["method"] == "keypoints"
    kept = Keypoints2D.from_npz(tmp_path / "keypoints2d_raw.npz")
    np.testing.assert_array_equal(kept.keypoints, raw.keypoints)
    synced = Keypoints2D.from_npz(tmp_path / "keypoints2d.npz")
    first = doc["first_frame"]
    assert synced.num_frames == doc["frames"] and first <= -7
    # camera 3's frame i is common frame i - 7 (+-0.5): its values sit `first` rows further on
    assert np.isnan(synced.keypoints[0, :-first, :, :2]).all()  # the reference starts at 0
    np.testing.assert_array_equal(synced.keypoints[0, -first:-first + 240], raw.keypoints[0])
    # a rerun starts again from the raw keypoints and gives the same result
    again = S.sync_session(tmp_path)
    np.testing.assert_allclose(again.offset_frames, result.offset_frames, atol=1e-9)
    np.testing.assert_array_equal(Keypoints2D.from_npz(tmp_path / "keypoints2d_raw.npz")
                                  .keypoints, raw.keypoints)


def test_sync_session_uses_recorded_timestamps(tmp_path):
    from epicap.session.manifest import CameraEntry, SessionManifest

    _session(tmp_path, [0.0, 0.0], frames=60)
    (tmp_path / "timestamps").mkdir()
    entries = []
    for c, shift in enumerate([0.0, 2.0]):
        ts = 5.0 + (np.arange(60) + shift) / 60.0
        np.savetxt(tmp_path / "timestamps" / f"cam0{c + 1}.csv", ts, fmt="%.6f")
        entries.append(CameraEntry(f"cam0{c + 1}", 60.0, 60, 1280, 720,
                                   timestamps=f"timestamps/cam0{c + 1}.csv"))
    SessionManifest(entries).save(tmp_path)
    result = S.sync_session(tmp_path)
    assert result.offset_frames == pytest.approx([0.0, 2.0], abs=1e-3)
    assert result.cameras[1].method == "timestamps" and result.cameras[1].confidence == 1.0
    assert Keypoints2D.from_npz(tmp_path / "keypoints2d.npz").num_frames == 62


def test_bad_input(tmp_path):
    _session(tmp_path, [0.0])
    assert S.sync_session(tmp_path) is None  # one camera: nothing written
    assert not (tmp_path / "sync.toml").exists()
    with pytest.raises(InputError, match="unknown sync method"):
        S.sync_session(tmp_path, method="audio")
    with pytest.raises(InputError, match="nothing to synchronize"):
        S.estimate_offsets(np.zeros((1, 30, 17, 3)), 60.0, ["a"])
    two = tmp_path / "two"
    two.mkdir()
    _session(two, [0.0, 1.0], frames=60)
    with pytest.raises(InputError, match="timestamps"):
        S.sync_session(two, method="timestamps")


def test_a_reference_camera_that_sees_too_little_is_the_one_named():
    """Camera a sees the subject for 10 frames only: every other camera is unplaced against it,
    and the error names a, not the cameras that share their frames with each other."""
    from epicap.errors import GeometryError

    kp = offset_keypoints(TRUTH, frames=240, noise_px=1.0)
    kp[0, 10:] = (np.nan, np.nan, 0.0)
    with pytest.raises(GeometryError) as err:
        S.estimate_offsets(kp, 60.0, ["a", "b", "c", "d"])
    message = str(err.value)
    assert message.startswith("a: too few frames"), message
    assert "b, c, d can be placed against each other: the reference camera a cannot" in message
    blind = offset_keypoints(TRUTH, frames=240, noise_px=1.0)
    blind[3, 10:] = (np.nan, np.nan, 0.0)  # another camera: it alone is named, as before
    with pytest.raises(GeometryError, match=r"^d: too few frames .* time offset$"):
        S.estimate_offsets(blind, 60.0, ["a", "b", "c", "d"])


@pytest.mark.slow
def test_pose2sim_demo_is_already_synchronized(tmp_path):
    """MediaPipe on all 100 frames of the demo's 4 cameras: offsets within 0.5 frame of zero."""
    from epicap.keypoints.mediapipe_detector import DetectorOptions, detect_session
    from epicap.keypoints.models import pose_model_path
    from tests.keypoints.pose2sim_demo import make_session

    session = make_session(tmp_path / "demo")
    detect_session(session, pose_model_path(), DetectorOptions(num_poses=1)).keypoints.save(
        session / "keypoints2d.npz")
    result = S.sync_session(session, method="keypoints")
    print({c.name: (round(c.offset_frames, 3), round(c.confidence, 2)) for c in result.cameras})
    assert np.abs(result.offset_frames).max() < 0.5, result.offset_frames  # measured <= 0.45


def test_a_sync_killed_before_its_last_rename_reruns_to_the_same_result(tmp_path, monkeypatch):
    """A kill after sync.toml is written but before keypoints2d.npz is replaced: the rerun must
    start from the raw keypoints, not treat them as synced (and not overwrite the raw file)."""
    import types

    raw = _session(tmp_path, [0.0, 3.0, -7.0])
    reference = tmp_path / "reference"
    reference.mkdir()
    _session(reference, [0.0, 3.0, -7.0])
    expected = S.sync_session(reference)

    class Killed(BaseException):
        pass

    def killed(*args):
        raise Killed

    monkeypatch.setattr(S, "os", types.SimpleNamespace(replace=killed))
    with pytest.raises(Killed):
        S.sync_session(tmp_path)
    assert (tmp_path / "sync.toml").is_file()          # written, but the rename never happened
    np.testing.assert_array_equal(Keypoints2D.from_npz(tmp_path / "keypoints2d.npz").keypoints,
                                  raw.keypoints)
    monkeypatch.undo()
    again = S.sync_session(tmp_path)
    np.testing.assert_allclose(again.offset_frames, expected.offset_frames, atol=1e-9)
    np.testing.assert_array_equal(Keypoints2D.from_npz(tmp_path / "keypoints2d_raw.npz").keypoints,
                                  raw.keypoints)
    np.testing.assert_array_equal(Keypoints2D.from_npz(tmp_path / "keypoints2d.npz").keypoints,
                                  Keypoints2D.from_npz(reference / "keypoints2d.npz").keypoints)
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.parametrize("sigma", [0.0, 2.0])
def test_interpolation_noise_factor_matches_simulated_noise(sigma):
    """Smoothed white noise read between frames (as `sample_at` does) against the formula."""
    from epicap.capture.sync_epipolar import interpolation_noise_factor
    from epicap.capture.sync_tracks import sample_at, smooth_tracks

    rng = np.random.default_rng(0)
    T = 200_000
    tracks = np.concatenate([rng.normal(size=(T, 1, 2)), np.ones((T, 1, 1))], axis=-1)
    tracks = smooth_tracks(tracks, sigma)
    whole = np.var(tracks[100:-100, 0, 0])
    for a in (0.25, 0.5):
        read = sample_at(tracks, np.arange(100, T - 100) + a)[:, 0, 0]
        simulated = (1 + np.var(read) / whole) / 2  # reference frames are not interpolated
        assert interpolation_noise_factor(-a, sigma) == pytest.approx(simulated, abs=0.01)
    assert interpolation_noise_factor(3.0, sigma) == 1.0


def test_uncertain_offsets_are_named_in_a_warning():
    from epicap.capture.sync_tracks import CameraOffset, SyncResult

    result = SyncResult("cam01", 60.0, [CameraOffset("cam01", 0.0, 0.0, 1.0, "reference"),
                                        CameraOffset("cam02", -54.14, -0.9, 0.21, "keypoints"),
                                        CameraOffset("cam03", 0.14, 0.002, 0.93, "keypoints")])
    lines = result.warnings()
    assert len(lines) == 1
    assert "cam02" in lines[0] and "-54.14" in lines[0] and "0.21" in lines[0]


def test_uncertain_offsets_from_several_people_say_why_they_may_be():
    """With several people, an uncertain offset also says that cameras started further apart
    than detect's offset search (2 s) pair different people, and what to do about it."""
    from epicap.capture.sync_tracks import CameraOffset, SyncResult

    cameras = [CameraOffset("cam01", 0.0, 0.0, 1.0, "reference"),
               CameraOffset("cam02", 0.0, 0.0, 0.16, "keypoints")]
    one, several = SyncResult("cam01", 30.0, cameras), SyncResult("cam01", 30.0, cameras,
                                                                  several_people=True)
    assert len(one.warnings()) == 1 and len(several.warnings()) == 2
    assert "up to 2 s each way" in several.warnings()[1]
    assert "common start" in several.warnings()[1]
    cameras[1].confidence = 0.9
    assert several.warnings() == []


def test_an_offset_within_its_noise_of_zero_is_kept_at_zero_and_said():
    """Synchronized cameras, 1 s of 6 px noise: the estimates (measured -0.46, 0.65, -0.23
    frames, std about 2) are not told apart from no shift; 0 is kept and a warning gives them.
    Applying them would have shifted two cameras by half a frame or more for nothing."""
    kp = offset_keypoints([0.0, 0.0, 0.0, 0.0], frames=60, noise_px=6.0)
    result = S.estimate_offsets(kp, 60.0, ["a", "b", "c", "d"])
    assert (result.offset_frames == 0).all()
    moved = [c for c in result.cameras[1:] if c.estimated_frames is not None]
    assert len(moved) == 3
    assert all(abs(c.estimated_frames) <= 2 * c.std_frames for c in moved)
    lines = result.warnings()
    # half a frame or more kept at 0 is said; a smaller one is no news, but an offset this
    # noisy (std 2 frames) is still named as uncertain
    big = [c for c in moved if abs(c.estimated_frames) >= 0.5]
    kept = [line for line in lines if "kept at 0" in line]
    assert len(kept) == len(big) >= 1 and f"{big[0].estimated_frames:+.2f}" in kept[0]
    assert len(lines) == 3 and all("kept at 0" in line or "uncertain" in line for line in lines)
    # the same data with the rule off: the estimates are applied as they are
    off = S.estimate_offsets(kp, 60.0, ["a", "b", "c", "d"], options=S.SyncOptions(
        zero_within_std=0.0))
    assert np.allclose(off.offset_frames[1:], [c.estimated_frames for c in moved])
    assert all(c.estimated_frames is None for c in off.cameras)


def test_estimated_offsets_names_the_cameras_sync_moved(tmp_path):
    """The cameras a calibration may refine (`CalibrationOptions.refine_timing`): those whose
    offsets sync estimated from the keypoints and applied, while its output is in place."""
    from epicap.session import Keypoints2D

    assert S.estimated_offsets(tmp_path) == ()  # never synced
    _session(tmp_path, [0.0, 3.0, -7.0])
    result = S.sync_session(tmp_path)
    assert result.estimated == ("cam02", "cam03") == S.estimated_offsets(tmp_path)
    # in sync: sync keeps the offsets at 0 and there is nothing to refine
    _session(tmp_path, [0.0, 0.0, 0.0])
    S.sync_session(tmp_path)
    doc = tomllib.loads((tmp_path / "sync.toml").read_text())
    kept = [n for n, c in doc["cameras"].items() if "estimated_frames" in c]
    assert S.estimated_offsets(tmp_path) == tuple(n for n in ("cam02", "cam03") if n not in kept)
    # keypoints that are not sync's output (a new detect): its offsets no longer apply
    _session(tmp_path, [0.0, 3.0, -7.0])
    raw = Keypoints2D.from_npz(tmp_path / "keypoints2d.npz")
    raw.keypoints[0, 0, 0, 0] += 1.0
    raw.save(tmp_path / "keypoints2d.npz")
    assert S.estimated_offsets(tmp_path) == ()
    # a sync.toml edited by hand into something else: nothing to go on, no crash
    from epicap.assets import sha256_of

    (tmp_path / "sync.toml").write_text(
        f'synced_sha256 = "{sha256_of(tmp_path / "keypoints2d.npz")}"\ncameras = "edited"\n')
    assert S.estimated_offsets(tmp_path) == ()
