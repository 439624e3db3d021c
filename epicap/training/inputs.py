"""From dataset samples to a student's input and target tensors, with augmentation.

`Batches` gathers samples by index (across memory-mapped shards) and returns, for the lifter,
(B, W, J, 3) normalized 2D windows (`poses.normalize_keypoints`) or, for the integral student,
(B, 3, S, S) RGB crops in [0, 1]; targets are root-relative camera-frame poses in metres with
per-joint weights. `augment` applies, consistently to inputs and targets:

- flip with left/right swap (`JointSet.flip_index`): image or 2D mirrored, 3D x negated;
- rotation about the optical axis (a camera roll): image/2D and 3D rotated together;
- scale (images only; 2D input is scale-normalized, so scaling it changes nothing);
- keypoint jitter and dropped joints (lifter) / synthetic occluders (images: random boxes of
  random colour, as Sarandi et al., "How robust is 3D human pose estimation to occlusion?", 2018).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from epicap.training.dataset import PoseDataset
from epicap.training.poses import (flip_poses, normalize_keypoints, random_angles,
                                   root_relative, rotate_about_z)

__all__ = ["AugmentOptions", "Batches"]


@dataclass(frozen=True)
class AugmentOptions:
    """Augmentation strengths; all off with `AugmentOptions.none()`.

    flip: mirror half the samples. rotation_deg: uniform roll in +-degrees. scale: images are
    zoomed by a factor in [1 - scale, 1 + scale]. noise: std of 2D jitter in normalized units.
    joint_dropout: probability a 2D joint is hidden. occlusion: probability of an occluder.
    """

    flip: bool = True
    rotation_deg: float = 15.0
    scale: float = 0.25
    noise: float = 0.01
    joint_dropout: float = 0.05
    occlusion: float = 0.5

    @classmethod
    def none(cls) -> "AugmentOptions":
        return cls(False, 0.0, 0.0, 0.0, 0.0, 0.0)


class Batches:
    """Inputs and targets of one student drawn from a `PoseDataset`.

    student: "lifter" or "integral". window: frames per lifter input (odd). input_size: image
    side for the integral student. target: "label" (pseudo-labels) or "truth".
    """

    def __init__(self, dataset: PoseDataset, student: str, window: int = 1,
                 input_size: int = 256, target: str = "label"):
        self.ds, self.student, self.window, self.input_size = dataset, student, window, input_size
        self.target = target
        skel = dataset.skeleton
        self.root_index = torch.as_tensor(skel.root_index)
        self.flip_index = torch.as_tensor(skel.flip_index)
        self.neighbours = dataset.sequence_neighbours(window) if student == "lifter" else None

    def inputs(self, idx: np.ndarray) -> torch.Tensor:
        """Student input for samples `idx` (B,): (B, W, J, 3) or (B, 3, S, S) float32."""
        if self.student == "lifter":
            kp = self.ds.get("keypoints", self.neighbours[idx].reshape(-1))
            kp = torch.from_numpy(kp).view(len(idx), self.window, *kp.shape[1:])
            return normalize_keypoints(kp, self.root_index)
        crops = torch.from_numpy(self.ds.get("crop", idx)).permute(0, 3, 1, 2).float() / 255
        if crops.shape[-1] != self.input_size:
            crops = F.interpolate(crops, size=(self.input_size,) * 2, mode="bilinear",
                                  align_corners=False, antialias=True)
        return crops

    def targets(self, idx: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """(root-relative poses (B, J, 3) metres camera frame, weights (B, J)) of samples `idx`."""
        if self.target == "truth":
            pose = torch.from_numpy(self.ds.get("truth", idx))
            weight = torch.isfinite(pose).all(-1).float()
        else:
            pose = torch.from_numpy(self.ds.get("label", idx))
            weight = torch.from_numpy(self.ds.get("weight", idx))
        root_ok = torch.isfinite(pose[:, self.root_index]).all(-1).all(-1)
        weight = weight * root_ok[:, None] * torch.isfinite(pose).all(-1)
        return root_relative(pose, self.root_index), weight

    def augment(self, x: torch.Tensor, pose: torch.Tensor, opt: AugmentOptions,
                generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Augmented (inputs, root-relative poses), drawn from `generator` (CPU)."""
        B = x.shape[0]
        flip = (torch.rand(B, generator=generator) < 0.5) if opt.flip \
            else torch.zeros(B, dtype=torch.bool)
        angle = random_angles(B, opt.rotation_deg, generator)
        pose = rotate_about_z(flip_poses(pose, self.flip_index, flip), angle)
        if self.student == "lifter":
            x = flip_poses(x, self.flip_index, flip)
            x = torch.cat([rotate_about_z(x[..., :2], angle), x[..., 2:]], -1)
            seen = x[..., 2:] > 0
            if opt.noise > 0:
                x = torch.cat([x[..., :2] + opt.noise * torch.randn(x[..., :2].shape,
                                                                    generator=generator),
                               x[..., 2:]], -1)
            if opt.joint_dropout > 0:
                seen = seen & (torch.rand(seen.shape, generator=generator) >= opt.joint_dropout)
            return torch.where(seen, x, torch.zeros_like(x)), pose
        return self._augment_images(x, flip, angle, opt, generator), pose

    def _augment_images(self, img: torch.Tensor, flip: torch.Tensor, angle: torch.Tensor,
                        opt: AugmentOptions, generator: torch.Generator) -> torch.Tensor:
        B, _, S, _ = img.shape
        zoom = 1 + (torch.rand(B, generator=generator) * 2 - 1) * opt.scale
        # the pose was mirrored, then rolled by +angle: content at p moves to
        # q = zoom R(angle) M_flip p, so output pixel q samples the input at M_flip R(-angle) q / zoom
        c, s = torch.cos(angle), torch.sin(angle)
        rot_inv = torch.stack([torch.stack([c, s], -1), torch.stack([-s, c], -1)], -2)
        mirror = torch.ones(B, 2)
        mirror[:, 0] = torch.where(flip, -1.0, 1.0)
        A = mirror[:, :, None] * rot_inv / zoom[:, None, None]  # M_flip R(-angle) / zoom
        theta = torch.cat([A, torch.zeros(B, 2, 1)], -1)
        grid = F.affine_grid(theta, list(img.shape), align_corners=False)
        out = F.grid_sample(img, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        if opt.occlusion > 0:
            occluded = torch.rand(B, generator=generator) < opt.occlusion
            size = (0.1 + 0.3 * torch.rand(B, 2, generator=generator)) * S
            corner = torch.rand(B, 2, generator=generator) * (S - size)
            colour = torch.rand(B, 3, 1, 1, generator=generator)
            ax = torch.arange(S, dtype=torch.float32)
            inx = (ax[None] >= corner[:, :1]) & (ax[None] < corner[:, :1] + size[:, :1])
            iny = (ax[None] >= corner[:, 1:]) & (ax[None] < corner[:, 1:] + size[:, 1:])
            mask = (iny[:, :, None] & inx[:, None, :] & occluded[:, None, None])[:, None]
            out = torch.where(mask, colour.expand_as(out), out)
        return out
