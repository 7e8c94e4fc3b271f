"""A plain Res2Net-50 26w_4s written from its paper, for reference checks.

Key names follow the official checkpoint (``conv1``, ``bn1``,
``layerX.Y.{conv1,bn1,convs.i,bns.i,conv3,bn3,downsample.0/1}``, ``fc``), so
its ``state_dict()`` has the format of ``res2net50_26w_4s-06e79181.pth``.
"""
from typing import List, Optional, Sequence

import torch
import torch.nn as nn


class Bottle2neck(nn.Module):
    """Res2Net's bottleneck: 1x1, hierarchical 3x3s over ``scale`` chunks, 1x1.

    Args:
        inplanes: Input channels.
        planes: Output is ``planes * 4`` channels.
        stride: Stride of the 3x3 convolutions. Defaults to 1.
        downsample: Shortcut projection. Defaults to None.
        base_width: Chunks are ``planes * base_width // 64`` wide.
            Defaults to 26.
        scale: Number of chunks. Defaults to 4.
        stage: First block of a stage: no cascade, last chunk avg-pooled.
            Defaults to False.
    """

    expansion = 4

    def __init__(self,
                 inplanes: int,
                 planes: int,
                 stride: int = 1,
                 downsample: Optional[nn.Module] = None,
                 base_width: int = 26,
                 scale: int = 4,
                 stage: bool = False) -> None:
        super().__init__()
        width = planes * base_width // 64
        self.width, self.scale, self.stage = width, scale, stage
        self.conv1 = nn.Conv2d(inplanes, width * scale, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width * scale)
        self.convs = nn.ModuleList(
            nn.Conv2d(width, width, 3, stride, 1, bias=False)
            for _ in range(scale - 1))
        self.bns = nn.ModuleList(
            nn.BatchNorm2d(width) for _ in range(scale - 1))
        self.pool = nn.AvgPool2d(3, stride, 1) if stage else None
        self.conv3 = nn.Conv2d(width * scale, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU()
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[N, inplanes, H, W] -> [N, planes * 4, H / stride, W / stride]."""
        out = self.relu(self.bn1(self.conv1(x)))
        chunks = torch.split(out, self.width, 1)
        outs: List[torch.Tensor] = []
        sp = None
        for i in range(self.scale - 1):
            sp = chunks[i] if (i == 0 or self.stage) else sp + chunks[i]
            sp = self.relu(self.bns[i](self.convs[i](sp)))
            outs.append(sp)
        last = self.pool(chunks[-1]) if self.stage else chunks[-1]
        out = self.bn3(self.conv3(torch.cat(outs + [last], 1)))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class Res2Net(nn.Module):
    """Res2Net-50 26w_4s with the official module names (single 7x7 stem).

    Args:
        layers: Blocks per stage. Defaults to (3, 4, 6, 3).
        base_channels: ``planes`` of the first stage. Defaults to 64.
        stem_channels: Channels of the stem. Defaults to 64.
        num_classes: Classifier outputs. Defaults to 1000.
    """

    def __init__(self,
                 layers: Sequence[int] = (3, 4, 6, 3),
                 base_channels: int = 64,
                 stem_channels: int = 64,
                 num_classes: int = 1000) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, stem_channels, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(stem_channels)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        inplanes = stem_channels
        for index, blocks in enumerate(layers):
            planes = base_channels * 2**index
            stride = 1 if index == 0 else 2
            downsample = nn.Sequential(
                nn.Conv2d(inplanes, planes * 4, 1, stride, bias=False),
                nn.BatchNorm2d(planes * 4))
            modules = [
                Bottle2neck(inplanes, planes, stride, downsample, stage=True)
            ]
            inplanes = planes * 4
            modules += [
                Bottle2neck(inplanes, planes) for _ in range(blocks - 1)
            ]
            setattr(self, f'layer{index + 1}', nn.Sequential(*modules))
        self.fc = nn.Linear(inplanes, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """[N, 3, H, W] -> the last stage's features [N, C, H/32, W/32]."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for index in range(4):
            x = getattr(self, f'layer{index + 1}')(x)
        return x
