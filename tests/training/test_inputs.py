import math

import numpy as np
import pytest
import torch

from epicap.joint_sets import get_joint_set
from epicap.training.dataset import PoseDataset
from epicap.training.inputs import AugmentOptions, Batches
from epicap.training.labels import LabelOptions, label_sessions
from epicap.training.poses import (flip_poses, normalize_keypoints, pose_scale, rotate_about_z,
                                   scale_align)

from tests.training.sessions import figure_motion, make_session

COCO = get_joint_set("coco17")
ROOT = torch.as_tensor(COCO.root_index)


def _camera_frame_poses(B: int = 6) -> torch.Tensor:
    """Poses (B, J, 3) in a camera frame with the root on the optical axis, 5 m away."""
    X = torch.as_tensor(figure_motion(B, seed=3))[:, :, [0, 2, 1]] * torch.tensor([1, -1, 1.0])
    X = X - X[:, ROOT].mean(1, keepdim=True)
    return (X + torch.tensor([0, 0, 5.0])).float()


def _project(X: torch.Tensor, f: float = 800.0) -> torch.Tensor:
    kp = f * X[..., :2] / X[..., 2:]
    return torch.cat([kp, torch.ones_like(kp[..., :1])], -1)[:, None]  # (B, 1, J, 3)


def test_flip_and_roll_keep_2d_input_and_3d_target_consistent():
    X = _camera_frame_poses()
    flip = torch.tensor([True, False, True, False, True, False])
    angle = torch.linspace(-0.4, 0.4, 6)
    # augmenting the 3D (root on the axis: a roll about the axis keeps it there) and projecting
    # gives what augmenting the projected 2D input gives
    X_aug = rotate_about_z(flip_poses(X, torch.as_tensor(COCO.flip_index), flip), angle)
    expect = normalize_keypoints(_project(X_aug), ROOT)
    x = normalize_keypoints(_project(X), ROOT)
    x = flip_poses(x, torch.as_tensor(COCO.flip_index), flip)
    x = torch.cat([rotate_about_z(x[..., :2], angle), x[..., 2:]], -1)
    torch.testing.assert_close(x, expect, atol=1e-5, rtol=0)
    # a flipped pose is a mirror image: bone lengths kept, left and right swapped
    f = flip_poses(X, torch.as_tensor(COCO.flip_index), torch.ones(6, dtype=torch.bool))
    assert torch.allclose(f[:, COCO.index("left_wrist"), 0], -X[:, COCO.index("right_wrist"), 0])


def test_normalized_keypoints_are_root_centred_unit_scale_and_zero_where_missing():
    kp = _project(_camera_frame_poses()) + torch.tensor([300.0, 200.0, 0])
    kp[0, 0, 3] = torch.tensor([float("nan"), float("nan"), 0.0])
    x = normalize_keypoints(kp, ROOT)
    assert torch.equal(x[0, 0, 3], torch.zeros(3))
    torch.testing.assert_close(x[:, 0, ROOT, :2].mean(1), torch.zeros(6, 2), atol=1e-6, rtol=0)
    torch.testing.assert_close(pose_scale(x[:, 0, :, :2], x[:, 0, :, 2]), torch.ones(6))
    # invariant to the focal length and the image position of the person
    x2 = normalize_keypoints(kp * torch.tensor([2.0, 2.0, 1]) + torch.tensor([50.0, -9, 0]), ROOT)
    torch.testing.assert_close(x, x2, atol=1e-5, rtol=0)


def test_scale_align_recovers_a_scaled_prediction():
    X = _camera_frame_poses() - torch.tensor([0, 0, 5.0])
    w = torch.ones(6, 17)
    torch.testing.assert_close(scale_align(0.6 * X, X, w), X, atol=1e-6, rtol=0)


@pytest.fixture(scope="module")
def crop_dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("inputs")
    s = make_session(root / "s", T=12, C=2, video=True)
    label_sessions([s], root / "ds", LabelOptions(crop_size=64))
    return PoseDataset.open(root / "ds")


def test_image_augmentation_moves_the_content_like_the_pose(crop_dataset):
    b = Batches(crop_dataset, "integral", input_size=64)
    img = torch.zeros(3, 3, 64, 64)
    img[:, :, 10:14, 44:48] = 1.0  # a blob right of and above the centre (31.5, 31.5)
    opt = AugmentOptions(flip=True, rotation_deg=30, scale=0.2, occlusion=0.0)
    gen = torch.Generator().manual_seed(4)
    gen_copy = torch.Generator().manual_seed(4)
    pose = torch.zeros(3, 17, 3)
    pose[:, 0] = torch.tensor([45.5 - 31.5, 11.5 - 31.5, 0.0])  # the blob as a "joint", px
    out, moved = b.augment(img, pose, opt, gen)
    # replay the draws: flip, angle, zoom
    flip = torch.rand(3, generator=gen_copy) < 0.5
    torch.rand(3, generator=gen_copy)  # the angles (already applied to `moved`)
    zoom = 1 + (torch.rand(3, generator=gen_copy) * 2 - 1) * 0.2
    for i in range(3):
        m = out[i, 0]
        ys, xs = torch.nonzero(m > 0.5, as_tuple=True)
        centroid = torch.stack([xs.float().mean(), ys.float().mean()]) - 31.5
        expect = moved[i, 0, :2] * zoom[i]
        assert (centroid - expect).norm() < 1.0, (i, centroid, expect, flip[i])


def test_occluders_cover_part_of_the_image(crop_dataset):
    b = Batches(crop_dataset, "integral", input_size=32)
    x = b.inputs(np.arange(4))
    assert x.shape == (4, 3, 32, 32) and x.dtype == torch.float32
    opt = AugmentOptions(flip=False, rotation_deg=0, scale=0, occlusion=1.0)
    out, _ = b.augment(x, torch.zeros(4, 17, 3), opt, torch.Generator().manual_seed(0))
    changed = (out != x).any(1).float().mean((1, 2))
    assert ((changed > 0.005) & (changed < 0.5)).all()


def test_lifter_windows_and_targets(crop_dataset):
    b = Batches(crop_dataset, "lifter", window=3)
    x = b.inputs(np.arange(5))
    pose, w = b.targets(np.arange(5))
    assert x.shape == (5, 3, 17, 3) and pose.shape == (5, 17, 3)
    torch.testing.assert_close(pose[:, ROOT].mean(1), torch.zeros(5, 3), atol=1e-6, rtol=0)
    assert (w > 0).all()
    assert math.isclose(float(x[:, 1, ROOT, :2].mean(1).abs().max()), 0.0, abs_tol=1e-5)
