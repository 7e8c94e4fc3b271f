"""Temporal layers are built from registry configs, with clear errors."""
import pytest
import torch
import torch.nn as nn
from mmaction.registry import MODELS

from img_mmaction.models import (SHIFT, AdaptiveShift, TemporalConv1d,
                                 build_temporal_layer)
from img_mmaction.models.checks import check_frames

T = 4


def test_configs_build_the_registered_layers() -> None:
    shift = build_temporal_layer(
        dict(type='AdaptiveShift', shift_div=4, init='random', frozen=True), 8,
        T)
    assert isinstance(shift, AdaptiveShift)
    assert (shift.channels, shift.num_segments, shift.shift_div, shift.init,
            shift.frozen) == (8, T, 4, 'random', True)
    assert isinstance(
        build_temporal_layer(dict(type='TemporalConv1d'), 8, T),
        TemporalConv1d)
    assert isinstance(build_temporal_layer(None, 8, T), nn.Identity)
    default = build_temporal_layer(SHIFT, 16, T)
    assert isinstance(default, AdaptiveShift) and default.init == 'tsm'
    with pytest.raises(TypeError):
        SHIFT['type'] = 'TemporalConv1d'  # the shared default is read-only


@MODELS.register_module(force=True)
class ReverseTime(nn.Module):
    """A new temporal layer, written as docs/model.md says: reverses T."""

    def __init__(self, channels: int, num_segments: int) -> None:
        super().__init__()
        self.num_segments = num_segments

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        clips = check_frames(x.shape[0], self.num_segments, 'ReverseTime')
        # [N*T, C, H, W] -> [N, T, C, H, W] -> reversed T -> [N*T, C, H, W]
        return x.view(clips, self.num_segments,
                      *x.shape[1:]).flip(1).reshape(x.shape)


def test_a_new_registered_layer_goes_into_clim_and_the_backbones() -> None:
    from img_mmaction.models import CLIM, Res2NetIMG, ResNetIMG
    clim = CLIM(16, T, temporal_cfg=dict(type='ReverseTime'))
    assert all(isinstance(m, ReverseTime) for m in clim.temporal)
    res2net = Res2NetIMG(
        num_segments=T,
        base_channels=16,
        stem_channels=16,
        stage_blocks=(1, 1, 1, 1),
        temporal_cfg=dict(type='ReverseTime'))
    assert isinstance(res2net.layer3[0].clim.temporal[1], ReverseTime)
    resnet = ResNetIMG(
        num_segments=T, pretrained=None, temporal_cfg=dict(type='ReverseTime'))
    assert isinstance(resnet.layer1[0].temporal, ReverseTime)


@pytest.mark.parametrize('cfg,error,match', [
    (dict(type='AdaptivShift'), ValueError,
     "'AdaptivShift' is not registered.*did you mean 'AdaptiveShift'"),
    (dict(type='AdaptiveShift', inti='tsm'), ValueError,
     "unknown argument.*'inti' \\(did you mean 'init'\\?\\)"),
    (dict(type='AdaptiveShift', channels=8), ValueError,
     "sets 'channels', which the block sets itself"),
    ('shift', TypeError, "must be None or a dict with a 'type'"),
    (dict(shift_div=8), TypeError, "must be None or a dict with a 'type'"),
])
def test_bad_configs_say_what_is_wrong(cfg, error, match) -> None:
    with pytest.raises(error, match=match):
        build_temporal_layer(cfg, 8, T)
