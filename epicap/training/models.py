"""The students: `lifter` (2D keypoints -> 3D) and `integral` (image -> 3D), built from plain dicts.

A model is described by a JSON-able dict (`student` plus its keyword arguments), which is what a
checkpoint stores, so loading needs no pickled classes (torch.load(weights_only=True)).
"""
from __future__ import annotations

import torch
from torch import nn

from epicap.errors import InputError
from epicap.training.integral import RESNET_LAYERS, IntegralStudent

__all__ = ["ResidualLifter", "build_model", "STUDENTS"]

STUDENTS = ("lifter", "integral")


class _ResidualBlock(nn.Module):
    def __init__(self, width: int, dropout: float):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(width, width), nn.LayerNorm(width), nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(width, width), nn.LayerNorm(width), nn.ReLU(inplace=True),
            nn.Dropout(dropout))

    def forward(self, x):
        return x + self.net(x)


class ResidualLifter(nn.Module):
    """One view's 2D keypoints (optionally a window of frames) -> root-relative 3D, model units.

    The residual MLP of Martinez et al. ("A simple yet effective baseline for 3d human pose
    estimation", ICCV 2017), with LayerNorm in place of BatchNorm (independent of the batch, so
    DDP and batch-size-1 inference behave the same). A temporal window of W frames is flattened
    into the input, the centre frame's pose is predicted.

    Input: (B, W, J, 3) from `normalize_keypoints`; output (B, J, 3).
    """

    def __init__(self, num_joints: int, window: int = 1, width: int = 1024, blocks: int = 2,
                 dropout: float = 0.25):
        super().__init__()
        self.num_joints, self.window = num_joints, window
        self.inp = nn.Sequential(nn.Linear(window * num_joints * 3, width), nn.LayerNorm(width),
                                 nn.ReLU(inplace=True), nn.Dropout(dropout))
        self.blocks = nn.Sequential(*[_ResidualBlock(width, dropout) for _ in range(blocks)])
        self.out = nn.Linear(width, num_joints * 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B = x.shape[0]
        return self.out(self.blocks(self.inp(x.reshape(B, -1)))).view(B, self.num_joints, 3)


def build_model(config: dict) -> nn.Module:
    """The student described by `config` ({"student": "lifter"|"integral", ...kwargs}).

    InputError for an unknown student or backbone (naming the valid ones).
    """
    kwargs = dict(config)
    student = kwargs.pop("student", None)
    if student == "lifter":
        return ResidualLifter(**kwargs)
    if student == "integral":
        if kwargs.get("backbone", "resnet18") not in RESNET_LAYERS:
            raise InputError(f"unknown backbone {kwargs.get('backbone')!r}; valid: "
                             f"{', '.join(RESNET_LAYERS)}")
        return IntegralStudent(**kwargs)
    raise InputError(f"unknown student {student!r}; valid: {', '.join(STUDENTS)}")
