"""EpipolarPose's image student: a ResNet, a deconvolution head, volumetric heatmaps, soft-argmax.

The network follows Kocabas et al. (CVPR 2019), which uses Sun et al.'s integral regression
("Integral Human Pose Regression", ECCV 2018) on the simple-baseline architecture of Xiao et al.
("Simple Baselines for Human Pose Estimation", ECCV 2018): a ResNet (He et al., CVPR 2016) trunk,
three stride-2 deconvolutions, and a 1x1 convolution giving D depth bins of heatmap per joint. A
softmax over each joint's volume and its expectation (soft-argmax) give coordinates that are
differentiable, so the loss acts on the 3D pose itself.

The volume spans [-half_range, half_range] in model units on each axis (root-relative camera
frame: x right, y down, z forward). The crop is centred on the root joint with its side
proportional to the person's image extent, so the x, y axes of the volume line up with the
crop's pixels as in the paper, up to a weak-perspective scale.

The ResNet is written here in plain torch (torchvision has no CPU build on these machines);
its layout and names follow torchvision's `resnet.py` so its weights could be loaded.
"""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["ResNet", "IntegralStudent", "soft_argmax_3d", "RESNET_LAYERS"]

RESNET_LAYERS = {"resnet18": ("basic", (2, 2, 2, 2)), "resnet34": ("basic", (3, 4, 6, 3)),
                 "resnet50": ("bottleneck", (3, 4, 6, 3))}


class BasicBlock(nn.Module):
    """ResNet-18/34 residual block, two 3x3 convolutions (He et al., CVPR 2016, fig. 5 left)."""

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = _downsample(inplanes, planes * self.expansion, stride)

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + identity)


class Bottleneck(nn.Module):
    """ResNet-50 bottleneck block, 1x1-3x3-1x1 convolutions (He et al., CVPR 2016, fig. 5 right)."""

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = _downsample(inplanes, planes * self.expansion, stride)

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.relu(self.bn3(self.conv3(out)) + identity)


def _downsample(inplanes: int, outplanes: int, stride: int) -> nn.Module | None:
    if stride == 1 and inplanes == outplanes:
        return None
    return nn.Sequential(nn.Conv2d(inplanes, outplanes, 1, stride, bias=False),
                         nn.BatchNorm2d(outplanes))


class ResNet(nn.Module):
    """ResNet-18/34/50 trunk without the classifier: images (B, 3, H, W) -> (B, C, H/32, W/32)."""

    def __init__(self, name: str = "resnet18"):
        super().__init__()
        kind, layers = RESNET_LAYERS[name]
        block = BasicBlock if kind == "basic" else Bottleneck
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        inplanes, stages = 64, []
        for i, n in enumerate(layers):
            planes = 64 * 2 ** i
            blocks = []
            for b in range(n):
                blocks.append(block(inplanes, planes, 2 if (b == 0 and i > 0) else 1))
                inplanes = planes * block.expansion
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.out_channels = inplanes
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


def soft_argmax_3d(logits: torch.Tensor, half_range: float) -> torch.Tensor:
    """Expected coordinates (B, J, 3) of volumetric heatmaps (B, J, D, H, W) after a softmax.

    The volume spans [-half_range, half_range] on every axis, voxel centres evenly spaced; x runs
    along W, y along H, z along D. Sun et al. 2018, eq. (3): J_k = sum_p p * softmax(H_k)(p).
    """
    B, J, D, H, W = logits.shape
    prob = torch.softmax(logits.reshape(B, J, -1).float(), dim=-1).reshape(B, J, D, H, W)

    def axis(n):
        return (torch.arange(n, device=logits.device, dtype=prob.dtype) + 0.5) / n * 2 - 1

    x = (prob.sum((2, 3)) * axis(W)).sum(-1)
    y = (prob.sum((2, 4)) * axis(H)).sum(-1)
    z = (prob.sum((3, 4)) * axis(D)).sum(-1)
    return torch.stack([x, y, z], -1) * half_range


class IntegralStudent(nn.Module):
    """Crops (B, 3, S, S) RGB in [0, 1] -> root-relative camera-frame poses (B, J, 3) model units.

    backbone: resnet18 | resnet34 | resnet50. depth_bins: D (64 in the paper; fewer on CPU).
    deconv_channels: width of the three deconvolutions (256 in the paper). half_range: the
    volume's half extent in model units.
    """

    def __init__(self, num_joints: int, backbone: str = "resnet18", depth_bins: int = 64,
                 deconv_channels: int = 256, half_range: float = 2.5):
        super().__init__()
        self.num_joints, self.depth_bins, self.half_range = num_joints, depth_bins, half_range
        self.backbone = ResNet(backbone)
        layers, c = [], self.backbone.out_channels
        for _ in range(3):
            layers += [nn.ConvTranspose2d(c, deconv_channels, 4, 2, 1, bias=False),
                       nn.BatchNorm2d(deconv_channels), nn.ReLU(inplace=True)]
            c = deconv_channels
        self.deconv = nn.Sequential(*layers)
        self.final = nn.Conv2d(c, num_joints * depth_bins, 1)
        nn.init.normal_(self.final.weight, std=0.001)
        nn.init.zeros_(self.final.bias)
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = self.final(self.deconv(self.backbone((images - self.mean) / self.std)))
        B, _, H, W = x.shape
        return soft_argmax_3d(x.view(B, self.num_joints, self.depth_bins, H, W), self.half_range)
