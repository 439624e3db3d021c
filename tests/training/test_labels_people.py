"""Labels of several people: samples of every person, the person in the manifest, own crops."""
import numpy as np

from epicap.session import Keypoints2D, Poses3D
from epicap.session.manifest import CameraEntry, SessionManifest
from epicap.training.dataset import PoseDataset
from epicap.training.labels import LabelOptions, label_sessions
from tests.people_sessions import triangulated_session
from tests.training.sessions import (IMAGE_SIZE, figure_motion, joint_colour, ring_cameras,
                                     write_dot_video)

T, C, SHIFT = 20, 3, np.array([0.9, 0.0, 0.0])


def _two_people_with_video(folder):
    """Two dot figures 0.9 m apart, seen by 3 cameras with videos (person 1's joints drawn in
    the colours of joints 17..33)."""
    X = figure_motion(T, 0)
    X = np.stack([X, X + SHIFT])  # (2, T, 17, 3)
    cams = ring_cameras(C)
    pix = cams.project(X.reshape(-1, 3)).reshape(C, 2, T, 17, 2).transpose(0, 2, 1, 3, 4)
    kp = np.concatenate([pix, np.ones((C, T, 2, 17, 1))], -1).astype(np.float32)
    folder.mkdir(parents=True)
    Keypoints2D(kp, cams.names, "coco17", [IMAGE_SIZE] * C, 30.0,
                people=["p0", "p1"]).save(folder / "keypoints2d.npz")
    Poses3D(X, np.full((2, T, 17), 1.5), np.full((2, T, 17), C), "coco17", 30.0,
            people=["p0", "p1"]).save(folder / "poses3d.npz")
    cams.to_toml(folder / "cameras.toml")
    entries = []
    for c, name in enumerate(cams.names):
        write_dot_video(folder / f"videos/{name}.avi", pix[c].reshape(T, 34, 2))
        entries.append(CameraEntry(name, 30.0, T, *IMAGE_SIZE, video=f"videos/{name}.avi"))
    SessionManifest(entries, source="synth").save(folder)
    return folder, X, cams


def test_every_person_gives_samples_with_crops_round_them(tmp_path):
    folder, X, cams = _two_people_with_video(tmp_path / "two")
    report = label_sessions([folder], tmp_path / "ds", LabelOptions(crop_size=48))
    ds = PoseDataset.open(tmp_path / "ds")
    assert report.samples == len(ds) == 2 * C * T and report.has_crops
    sources = ds.manifest["sources"]
    assert [s["person"] for s in sources] == ["p0", "p1"]
    src, label, kp = ds.all("source"), ds.all("label"), ds.all("keypoints")
    crops, box = ds.get("crop", np.arange(len(ds))), ds.get("crop_box", np.arange(len(ds)))
    for i in range(0, len(ds), 7):
        s, c, f = src[i]
        p = ["p0", "p1"].index(sources[s]["person"])
        np.testing.assert_allclose(label[i], X[p, f] @ cams.R[c].T + cams.t[c], atol=1e-5)
        # the crop is cut round this person: their left ankle's dot (in their colour) is there
        j = 15
        u = (kp[i, j, :2] - box[i, :2]) * 48 / box[i, 2] - 0.5
        x, y = np.round(u).astype(int)
        want = np.array(joint_colour(17 * p + j)[::-1])
        other = np.array(joint_colour(17 * (1 - p) + j)[::-1])
        patch = crops[i, y - 1:y + 2, x - 1:x + 2].reshape(-1, 3).astype(int)
        near = np.abs(patch - want).sum(-1).min()
        assert near < 90 and near < np.abs(patch - other).sum(-1).min() - 90


def test_synthetic_people_session(tmp_path):
    folder, scene = triangulated_session(tmp_path / "s")
    poses = Poses3D.from_npz(folder / "poses3d.npz")
    report = label_sessions([folder], tmp_path / "ds", LabelOptions(crops=False))
    ds = PoseDataset.open(tmp_path / "ds")
    sources = ds.manifest["sources"]
    assert [s["person"] for s in sources] == ["p0", "p1", "p2"] and report.has_truth
    # a person's (camera, frame) is a candidate only where that person is triangulated
    seen = poses.valid.any(axis=-1).sum(axis=1)  # (P,) frames per person
    assert report.candidates == C_ * int(seen.sum()) < C_ * 3 * poses.poses.shape[1]
    src, label, truth = ds.all("source"), ds.all("label"), ds.all("truth")
    per_person = np.bincount(src[:, 0], minlength=3)
    assert (per_person > 0).all() and per_person.sum() == report.samples
    for i in range(0, len(ds), 11):
        s, c, f = src[i]
        R, t = scene.cameras.R[c], scene.cameras.t[c]
        np.testing.assert_allclose(label[i], poses.poses[s, f] @ R.T + t, atol=1e-4,
                                   equal_nan=True)
        err = np.linalg.norm(label[i] - truth[i], axis=-1)
        assert np.nanmedian(err) < 0.03  # the true 3D of the same person, not another one


C_ = 4  # cameras of tests.people_sessions
