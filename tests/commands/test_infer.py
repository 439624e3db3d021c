import numpy as np
import pytest

from epicap.cli import main
from epicap.session import Poses3D
from epicap.training.labels import LabelOptions, label_sessions
from epicap.training.train import TrainConfig, train

from tests.training.sessions import make_session, ring_cameras


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("cmd_infer")
    s = make_session(root / "s", T=40, C=3)
    label_sessions([s], root / "ds", LabelOptions(crops=False))
    train(TrainConfig(dataset=str(root / "ds"), out=str(root / "run"), epochs=40, width=128,
                      blocks=1, batch_size=30, warmup_steps=2, val_fraction=0.0, window=3,
                      rotation_deg=0, noise=0, joint_dropout=0, dropout=0, min_steps=0,
                      quiet=True))
    return root


def test_infer_from_keypoints_gives_camera_frame_poses(trained, tmp_path, capsys):
    out = tmp_path / "p.npz"
    s = trained / "s"
    assert main(["infer", str(trained / "run"), str(s / "keypoints2d.npz"), "--camera", "cam2",
                 "--out", str(out)]) == 0
    z = np.load(out)
    poses = z["poses"]
    assert poses.shape == (40, 17, 3) and str(z["camera"]) == "cam2"
    np.testing.assert_allclose(poses[:, 11:13].mean(1), 0, atol=1e-5)  # root-relative
    X = Poses3D.from_npz(s / "truth" / "poses3d.npz").poses
    cams = ring_cameras(3)
    truth = X @ cams.R[1].T + cams.t[1]
    truth -= truth[:, 11:13].mean(1, keepdims=True)
    err = np.linalg.norm(poses - truth, axis=-1).mean()
    assert err < 0.06, err  # the training frames of this camera, fitted well
    assert main(["infer", str(trained / "run"), str(s / "keypoints2d.npz"), "--out",
                 str(out)]) == 2  # exists
    assert main(["infer", str(trained / "run"), str(s / "keypoints2d.npz"), "--camera", "x",
                 "--out", str(tmp_path / "q.npz")]) == 2
    assert "no camera 'x'" in capsys.readouterr().err


def test_infer_bad_input_exits_2(trained, tmp_path):
    assert main(["infer", str(trained / "run"), str(tmp_path / "none.npz"), "--out",
                 str(tmp_path / "o.npz")]) == 2
    assert main(["infer", str(trained / "run"), str(trained / "s" / "poses3d.npz"), "--out",
                 str(tmp_path / "o.npz")]) == 2
    assert not (tmp_path / "o.npz").exists()


def test_infer_from_several_people_gives_everyone_or_the_one_asked(trained, tmp_path):
    from epicap.session import Keypoints2D

    one = Keypoints2D.from_npz(trained / "s" / "keypoints2d.npz")
    other = one.keypoints.copy()
    other[..., :2] += 200.0  # someone else, elsewhere in the picture
    several = Keypoints2D.stack([one, Keypoints2D(other, one.cameras, one.joint_set,
                                                  one.image_size, one.fps)], ["p0", "p1"])
    several.save(tmp_path / "people.npz")
    for src, out in ((trained / "s" / "keypoints2d.npz", "a.npz"), (tmp_path / "people.npz",
                                                                     "b.npz")):
        assert main(["infer", str(trained / "run"), str(src), "--camera", "cam2", "--out",
                     str(tmp_path / out)]) == 0
    a, b = np.load(tmp_path / "a.npz"), np.load(tmp_path / "b.npz")
    assert "people" not in a and b["people"].tolist() == ["p0", "p1"]
    assert b["poses"].shape == (2,) + a["poses"].shape  # everyone, person axis first
    np.testing.assert_array_equal(a["poses"], b["poses"][0])
    assert main(["infer", str(trained / "run"), str(tmp_path / "people.npz"), "--camera", "cam2",
                 "--people", "1", "--out", str(tmp_path / "b1.npz")]) == 0
    np.testing.assert_array_equal(a["poses"], np.load(tmp_path / "b1.npz")["poses"])
    # --person picks another: p1 is p0 moved across the picture (the lifter normalizes the
    # keypoints about their root, so the same pose comes out), and it is p1's keypoints read
    assert main(["infer", str(trained / "run"), str(tmp_path / "people.npz"), "--camera", "cam2",
                 "--person", "p1", "--out", str(tmp_path / "c.npz")]) == 0
    p1 = np.load(tmp_path / "c.npz")["poses"]
    np.testing.assert_allclose(p1, b["poses"][0], atol=0.02)
    np.testing.assert_array_equal(p1, b["poses"][1])
    gone = several.keypoints.copy()
    gone[:, :20, 1] = (np.nan, np.nan, 0)  # p1 out of view for the first 20 frames
    Keypoints2D(gone, one.cameras, one.joint_set, one.image_size, one.fps, None,
                ["p0", "p1"]).save(tmp_path / "gone.npz")
    assert main(["infer", str(trained / "run"), str(tmp_path / "gone.npz"), "--camera", "cam2",
                 "--person", "p1", "--out", str(tmp_path / "d.npz")]) == 0
    d = np.load(tmp_path / "d.npz")["poses"]
    assert np.isnan(d[:20]).all() and np.isfinite(d[20:]).all()
    for bad in (["--person", "p7"], ["--people", "0"], ["--people", "some"]):
        assert main(["infer", str(trained / "run"), str(tmp_path / "people.npz"), *bad,
                     "--out", str(tmp_path / "e.npz")]) == 2
    assert not (tmp_path / "e.npz").exists()


def test_infer_on_a_video_of_two_people_follows_both(trained, tmp_path, capsys):
    """The Pose2Sim two-person trial's cam03 (both participants in every frame, the woman at the
    back, hidden behind the man from about frame 40): both are found and followed."""
    from tests.keypoints.pose2sim_demo import demo_video

    video, run = demo_video("cam03", trial="multi"), str(trained / "run")
    assert main(["infer", run, str(video), "--out", str(tmp_path / "all.npz")]) == 0
    assert "2 people (p0" in capsys.readouterr().out
    z = np.load(tmp_path / "all.npz")
    assert z["people"].tolist() == ["p0", "p1"] and z["poses"].shape == (2, 100, 17, 3)
    assert z["root_px"].shape == (2, 100, 2)
    found = np.isfinite(z["poses"]).all(-1).any(-1).mean(-1)
    assert found[0] > 0.85 and found[1] > 0.5, found  # measured 0.91 and 0.72
    # two people: their hips stand apart in the picture (measured medians 552 and 280 px)
    x = np.nanmedian(z["root_px"][..., 0], axis=1)
    assert abs(x[0] - x[1]) > 150, x
    # one of them alone: the same poses, single-person shapes
    assert main(["infer", run, str(video), "--person", "p1", "--out",
                 str(tmp_path / "p1.npz")]) == 0
    p1 = np.load(tmp_path / "p1.npz")
    assert "people" not in p1 and p1["poses"].shape == (100, 17, 3)
    np.testing.assert_array_equal(p1["poses"], z["poses"][1])
    assert main(["infer", run, str(video), "--person", "p5", "--out", str(tmp_path / "x.npz")]) == 2
    assert "--person p5" in capsys.readouterr().err and not (tmp_path / "x.npz").exists()
