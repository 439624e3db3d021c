"""Pose normalization, augmentation and the training loss, batched in torch.

Conventions: 3D poses are (B, J, 3) metres in the camera frame (OpenCV axes), made root-relative
with the joint set's root; a joint with weight 0 is unknown (its coordinates may be NaN). The
students predict root-relative poses in *model units*: a scale-normalized pose has unit RMS
distance of its joints from the root (EpipolarPose trains on scale-normalized poses: its 3D labels
come from cameras whose scale is arbitrary); with the metric loss, model units are metres divided
by the dataset's typical pose scale `scale_m`, so `pose_m = output * scale_m` either way.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = ["root_relative", "pose_scale", "normalize_keypoints", "flip_poses",
           "rotate_about_z", "weighted_smooth_l1", "scale_align"]

_EPS = 1e-8


def root_relative(poses: torch.Tensor, root_index: torch.Tensor) -> torch.Tensor:
    """Poses (B, J, D) minus their root (the mean of joints `root_index`)."""
    return poses - poses[:, root_index].mean(dim=1, keepdim=True)


def pose_scale(poses: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """(B,) RMS distance of the joints with weight > 0 from the origin (root-relative poses).

    poses: (B, J, D), NaN allowed where weight is 0. weight: (B, J). Returns _EPS for an empty pose.
    """
    mask = (weight > 0).to(poses.dtype)
    sq = torch.nan_to_num(poses).square().sum(-1) * mask
    return (sq.sum(-1) / mask.sum(-1).clamp_min(1)).sqrt().clamp_min(_EPS)


def normalize_keypoints(keypoints: torch.Tensor, root_index: torch.Tensor,
                        centre: int | None = None) -> torch.Tensor:
    """Student input from 2D keypoints: root-centred, scale-normalized x, y and the confidence.

    keypoints: (B, W, J, 3) pixels and confidence for windows of W frames (W = 1 for one frame);
        missing joints NaN with confidence 0.
    Every frame of a window is centred on the centre frame's root pixel and divided by the centre
    frame's RMS joint distance from it, so motion within the window is kept. Missing joints
    become (0, 0, 0). Returns (B, W, J, 3).
    """
    c = keypoints.shape[1] // 2 if centre is None else centre
    xy, conf = keypoints[..., :2], keypoints[..., 2]
    seen = torch.isfinite(xy).all(-1) & (conf > 0)
    mid_xy, mid_seen = xy[:, c], seen[:, c]
    root = mid_xy[:, root_index].mean(1)
    fallback = (torch.nan_to_num(mid_xy) * mid_seen[..., None]).sum(1) \
        / mid_seen.sum(1, keepdim=True).clamp_min(1)
    root = torch.where(torch.isfinite(root).all(-1, keepdim=True), root, fallback)
    rel = xy - root[:, None, None]
    scale = pose_scale(rel[:, c], mid_seen.to(xy.dtype))
    rel = rel / scale[:, None, None, None]
    rel = torch.where(seen[..., None], rel, torch.zeros_like(rel))
    return torch.cat([rel, torch.where(seen, conf, torch.zeros_like(conf))[..., None]], -1)


def flip_poses(x: torch.Tensor, flip_index: torch.Tensor, flip: torch.Tensor) -> torch.Tensor:
    """Mirror left/right where `flip` (B,) is True: negate x and swap joints by `flip_index`.

    x: (B, ..., J, D) with the joint axis second to last and x the first coordinate.
    """
    mirrored = x.index_select(-2, flip_index).clone()
    mirrored[..., 0] = -mirrored[..., 0]
    shape = (-1,) + (1,) * (x.dim() - 1)
    return torch.where(flip.view(shape), mirrored, x)


def rotate_about_z(x: torch.Tensor, angle: torch.Tensor) -> torch.Tensor:
    """Rotate the first two coordinates of x (B, ..., D >= 2) by `angle` (B,) radians.

    For 3D camera-frame poses this is a roll of the camera about its optical axis; for 2D pixels
    (y down) the same matrix rotates the image about its centre, so both stay consistent.
    """
    c, s = torch.cos(angle), torch.sin(angle)
    shape = (-1,) + (1,) * (x.dim() - 2)
    c, s = c.view(shape), s.view(shape)
    x0, x1 = x[..., 0], x[..., 1]
    return torch.cat([torch.stack([c * x0 - s * x1, s * x0 + c * x1], -1), x[..., 2:]], -1)


def weighted_smooth_l1(pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor,
                       beta: float = 0.05) -> torch.Tensor:
    """Mean smooth-L1 (Huber) loss over joints with weight > 0, weighted per joint.

    pred, target: (B, J, 3) in model units (target may be NaN where weight is 0). weight: (B, J).
    EpipolarPose trains with a smooth-L1 loss on normalized poses (Kocabas et al. 2019, sec. 3.3).
    """
    per = F.smooth_l1_loss(pred, torch.nan_to_num(target), reduction="none", beta=beta).sum(-1)
    w = weight.to(per.dtype)
    return (per * w).sum() / w.sum().clamp_min(_EPS)


def scale_align(pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Pred (B, J, 3) scaled by the least-squares factor onto target (Rhodin et al. 2018, N-MPJPE)."""
    w = (weight > 0).to(pred.dtype)[..., None]
    t = torch.nan_to_num(target)
    num = (pred * t * w).sum((1, 2))
    den = (pred * pred * w).sum((1, 2)).clamp_min(_EPS)
    return pred * (num / den)[:, None, None]


def random_angles(n: int, max_deg: float, generator: torch.Generator) -> torch.Tensor:
    """(n,) uniform angles in [-max_deg, max_deg] degrees, in radians."""
    return (torch.rand(n, generator=generator) * 2 - 1) * math.radians(max_deg)
