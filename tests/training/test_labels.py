import json

import numpy as np
import pytest

from epicap.errors import InputError
from epicap.session import Poses3D
from epicap.training.dataset import PoseDataset
from epicap.training.labels import LabelOptions, label_sessions

from tests.training.sessions import joint_colour, make_session, ring_cameras


@pytest.fixture(scope="module")
def sessions(tmp_path_factory):
    root = tmp_path_factory.mktemp("label")
    a = make_session(root / "a", T=30, C=3, label_noise_m=0.005, video=True, seed=0)
    b = make_session(root / "b", T=20, C=2, seed=1)
    return root, a, b


def test_labels_are_the_poses_in_each_camera_frame(sessions):
    root, a, _ = sessions
    report = label_sessions([a], root / "ds", LabelOptions(crop_size=48, shard_size=25))
    ds = PoseDataset.open(root / "ds")
    assert report.samples == len(ds) == 90 and report.has_crops and report.has_truth
    assert len(ds.manifest["shards"]) == 4  # 25 + 25 + 25 + 15
    cams = ring_cameras(3)
    X = Poses3D.from_npz(a / "poses3d.npz").poses.astype(np.float64)
    src = ds.all("source")
    label = ds.all("label")
    for i in (0, 31, 89):
        s, c, f = src[i]
        np.testing.assert_allclose(label[i], X[f] @ cams.R[c].T + cams.t[c], atol=1e-5)
    # the label projects onto the (noise-free) 2D keypoints of its own camera
    kp = ds.all("keypoints")
    K = cams.K[0]
    proj = label[:, :, :2] / label[:, :, 2:] * K[0, 0] + K[:2, 2]
    truth = ds.all("truth")
    tproj = truth[:, :, :2] / truth[:, :, 2:] * K[0, 0] + K[:2, 2]
    np.testing.assert_allclose(tproj, kp[..., :2], atol=1e-3)
    assert np.abs(proj - kp[..., :2]).max() < 5.0  # 5 mm label noise
    np.testing.assert_allclose(ds.all("weight"), 1 / (1 + (1.5 / 8.0) ** 2), rtol=1e-6)


def test_crops_show_the_person_centred_on_the_root(sessions):
    root, a, _ = sessions
    ds = PoseDataset.open(root / "ds")
    crops = ds.get("crop", np.arange(90))
    box = ds.get("crop_box", np.arange(90))
    kp = ds.all("keypoints")
    # the left ankle's dot sits where the box maps the ankle's pixel
    i, j = 10, 15
    u = (kp[i, j, :2] - box[i, :2]) * 48 / box[i, 2] - 0.5
    x, y = np.round(u).astype(int)
    expect = np.array(joint_colour(j)[::-1])  # RGB
    patch = crops[i, y - 1:y + 2, x - 1:x + 2].reshape(-1, 3).astype(int)
    assert np.abs(patch - expect).sum(-1).min() < 60
    # the root (mid-hip) projects to the crop centre
    root_px = (kp[:, 11:13, :2].mean(1) - box[:, :2]) * 48 / box[:, 2:] - 0.5
    np.testing.assert_allclose(root_px, 23.5, atol=1e-3)


def test_sessions_without_video_make_a_lifter_only_dataset(sessions):
    root, a, b = sessions
    report = label_sessions([a, b], root / "mixed")
    assert not report.has_crops and any("lifter" in n for n in report.notes)
    ds = PoseDataset.open(root / "mixed")
    assert len(ds) == 90 + 40 and ds.crop_size is None
    manifest = json.loads((root / "mixed" / "manifest.json").read_text())
    assert [s["samples"] for s in manifest["sources"]] == [90, 40]
    with pytest.raises(InputError, match="no person crops|no 'crop'"):
        ds.get("crop", np.arange(2))


def test_quality_filters_drop_and_count(tmp_path):
    s = make_session(tmp_path / "s", T=10, C=2)
    p = Poses3D.from_npz(s / "poses3d.npz")
    p.reprojection_error[:3, :12] = 50.0  # 12 of 17 joints too inaccurate in frames 0..2
    p.views[5, :] = 1  # frame 5: every joint from one view only
    p.poses[7, 11] = np.nan  # frame 7: the root (left hip) is missing
    p.save(s / "poses3d.npz")
    report = label_sessions([s], tmp_path / "ds", LabelOptions(max_error_px=20))
    assert report.dropped["few_labelled_joints"] == 2 * 4
    assert report.dropped["no_root"] == 2
    assert report.samples == 2 * 10 - 10
    ds = PoseDataset.open(tmp_path / "ds")
    assert set(ds.all("source")[:, 2]) == {3, 4, 6, 8, 9}


def test_bad_input_is_reported(tmp_path, sessions):
    root, a, _ = sessions
    with pytest.raises(InputError, match="no such session"):
        label_sessions([tmp_path / "nope"], tmp_path / "x")
    with pytest.raises(InputError, match="dataset exists"):
        label_sessions([a], root / "ds")
    p = Poses3D.from_npz(a / "poses3d.npz")
    p.poses[:] = np.nan
    empty = make_session(tmp_path / "e", T=5, C=2)
    p5 = Poses3D(np.full((5, 17, 3), np.nan), np.zeros((5, 17)), np.zeros((5, 17)), "coco17", 30)
    p5.save(empty / "poses3d.npz")
    with pytest.raises(InputError, match="no sample passed"):
        label_sessions([empty], tmp_path / "y")
    with pytest.raises(InputError, match="not a dataset"):
        PoseDataset.open(tmp_path)


def test_corrupt_dataset_is_refused(tmp_path, sessions):
    root, a, _ = sessions
    label_sessions([a], tmp_path / "ds", LabelOptions(crops=False))
    np.save(tmp_path / "ds" / "shard-00000.label.npy", np.zeros((3, 17, 3), np.float32))
    with pytest.raises(InputError, match="manifest says"):
        PoseDataset.open(tmp_path / "ds")


def test_sequence_neighbours_skip_missing_frames(tmp_path):
    s = make_session(tmp_path / "s", T=8, C=2)
    p = Poses3D.from_npz(s / "poses3d.npz")
    p.poses[3, 11] = np.nan  # frame 3 dropped in both cameras
    p.save(s / "poses3d.npz")
    label_sessions([s], tmp_path / "ds")
    ds = PoseDataset.open(tmp_path / "ds")
    src = ds.all("source")
    nb = ds.sequence_neighbours(5)
    frames = src[nb, 2]
    assert (src[nb, 1] == src[:, 1:2]).all()  # never another camera
    i = np.nonzero((src[:, 1] == 0) & (src[:, 2] == 4))[0][0]
    assert frames[i].tolist() == [2, 4, 4, 5, 6]  # 3 missing: the nearest towards 4
    j = np.nonzero((src[:, 1] == 1) & (src[:, 2] == 0))[0][0]
    assert frames[j].tolist() == [0, 0, 0, 1, 2]


def test_without_keypoints_the_2d_is_the_labels_projection(tmp_path):
    s = make_session(tmp_path / "s", T=6, C=2, px_noise=3.0)
    (s / "keypoints2d.npz").unlink()
    label_sessions([s], tmp_path / "ds")
    ds = PoseDataset.open(tmp_path / "ds")
    label, kp = ds.all("label"), ds.all("keypoints")
    K = ring_cameras(2).K[0]
    np.testing.assert_allclose(label[..., :2] / label[..., 2:] * K[0, 0] + K[:2, 2], kp[..., :2],
                               atol=1e-3)
    assert (kp[..., 2] == 1).all()


def test_2d_joints_off_their_label_are_given_as_unseen(tmp_path, capsys):
    """A camera's 2D joints that triangulation outvoted (here: a quarter of the person's size
    off in camera 1, frames 2-4, joints 5-9) reach the student as unseen and are counted; the
    others, and a detector's ordinary error (a twentieth of the size elsewhere), are kept."""
    from epicap.cli import main
    from epicap.session import Keypoints2D

    s = make_session(tmp_path / "s", T=8, C=3)
    kp = Keypoints2D.from_npz(s / "keypoints2d.npz")
    kept = kp.keypoints.copy()
    xy = kp.keypoints[..., :2]
    size = np.linalg.norm(np.nanmax(xy, 2) - np.nanmin(xy, 2), axis=-1)           # (C, T)
    kp.keypoints[1, 2:5, 5:10, 0] += 0.25 * size[1, 2:5, None]
    kp.keypoints[2, :, 3, 1] += 0.05 * size[2]
    kept = kp.keypoints.copy()
    kept[1, 2:5, 5:10] = (np.nan, np.nan, 0.0)
    kp.save(s / "keypoints2d.npz")
    report = label_sessions([s], tmp_path / "ds", LabelOptions(crops=False))
    assert report.stray_2d == 3 * 5 and report.samples == 3 * 8
    ds = PoseDataset.open(tmp_path / "ds")
    src, out = ds.all("source"), ds.all("keypoints")
    off = (src[:, 1] == 1) & np.isin(src[:, 2], [2, 3, 4])
    assert np.isnan(out[off][:, 5:10, :2]).all() and (out[off][:, 5:10, 2] == 0).all()
    np.testing.assert_allclose(out, kept[src[:, 1], src[:, 2]], atol=1e-4)
    assert ds.manifest["counts"]["stray_2d"] == 15 and ds.manifest["sources"][0]["stray_2d"] == 15
    assert main(["label", str(s), "--out", str(tmp_path / "ds2"), "--no-crops", "--quiet"]) == 0
    assert "15 2D joints lay farther than a tenth" in capsys.readouterr().out
