"""A plain Res2Net-50 26w_4s written from its paper, for reference checks.

Key names follow the official checkpoint (``conv1``, ``bn1``,
``layerX.Y.{conv1,bn1,convs.i,bns.i,conv3,bn3,downsample.0/1}``, ``fc``), so
its ``state_dict()`` has the format of ``res2net50_26w_4s-06e79181.pth``.
"""
from typing import List

import torch
import torch.nn as nn


class Bottle2neck(nn.Module):
    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: nn.Module = None, base_width: int = 26,
                 scale: int = 4, stage: bool = False) -> None:
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

    def __init__(self, layers=(3, 4, 6, 3), base_channels: int = 64,
                 stem_channels: int = 64, num_classes: int = 1000) -> None:
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
            modules = [Bottle2neck(inplanes, planes, stride, downsample,
                                   stage=True)]
            inplanes = planes * 4
            modules += [Bottle2neck(inplanes, planes)
                        for _ in range(blocks - 1)]
            setattr(self, f'layer{index + 1}', nn.Sequential(*modules))
        self.fc = nn.Linear(inplanes, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for index in range(4):
            x = getattr(self, f'layer{index + 1}')(x)
        return x
