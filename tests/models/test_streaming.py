"""StreamingRecognizer (OURS): frame by frame = the offline causal model."""
import copy
from typing import Tuple, Union

import pytest
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.config import Config

from img_mmaction.models import AdaptiveShift, StreamingRecognizer
from img_mmaction.utils import config_path

CAUSAL_TINY = Config.fromfile(
    str(config_path('_base_/models/img-causal_res2net-tiny.py'))).model
SIZE = 32
TOL = dict(rtol=1e-5, atol=1e-5)


def perturb_(model: torch.nn.Module) -> torch.nn.Module:
    """Non-trivial BN statistics and shift kernels; logits stay O(1)."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.normal_(0, 0.1)
                module.running_mean.normal_(0, 0.1)
                module.running_var.uniform_(0.5, 1.5)
            elif isinstance(module, AdaptiveShift):
                module.weight.uniform_(-1, 1)
        model.cls_head.fc_cls.weight.normal_(0, 0.5)
    return model


def build(num_segments: int,
          channels_last: Union[bool, Tuple[bool, ...]] = True,
          cfg: dict = CAUSAL_TINY,
          state: dict = None) -> torch.nn.Module:
    """The recognizer of ``cfg`` for clips of ``num_segments`` frames."""
    cfg = copy.deepcopy(cfg)
    cfg['backbone']['num_segments'] = num_segments
    if cfg['backbone']['type'] == 'Res2NetIMG':
        cfg['backbone']['channels_last'] = channels_last
    if 'num_segments' in cfg['cls_head']:
        cfg['cls_head']['num_segments'] = num_segments
    model = MODELS.build(cfg)
    if state is None:
        perturb_(model)
    else:
        model.load_state_dict(state)
    return model.eval()


def offline(
    model_cfg: dict, state: dict, clips: torch.Tensor,
    channels_last: Union[bool, Tuple[bool, ...]]
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Logits and scores of the offline model on whole clips [B, t, ...]."""
    model = build(clips.shape[1], channels_last, model_cfg, state)
    samples = [ActionDataSample() for _ in range(clips.shape[0])]
    with torch.no_grad():
        data = model.data_preprocessor(
            dict(inputs=list(clips), data_samples=samples))
        feats, kwargs = model.extract_feat(data['inputs'], test_mode=True)
        logits = model.cls_head(feats, **kwargs)
        scores = torch.stack(
            [s.pred_score for s in model(**data, mode='predict')])
    return logits, scores


def raw_clips(streams: int, frames: int) -> torch.Tensor:
    """Pixel values as the test pipeline gives them: [B, T, 3, H, W]."""
    return torch.randint(0, 256, (streams, frames, 3, SIZE, SIZE)).float()


@pytest.mark.parametrize(
    'channels_last', [True, False, (True, True, False, False)],
    ids=['channels_last', 'nchw', 'per_stage'])
def test_every_prefix_equals_the_offline_causal_model(
        channels_last: Union[bool, Tuple[bool, ...]]) -> None:
    """After frame t: the model with num_segments=t on frames 1..t."""
    frames = 8
    source = build(8, channels_last)
    state = source.state_dict()
    runner = StreamingRecognizer(source)
    clips = raw_clips(3, frames)
    for t in range(1, frames + 1):
        scores = runner.step(clips[:, t - 1])
        logits, expected = offline(CAUSAL_TINY, state, clips[:, :t],
                                   channels_last)
        torch.testing.assert_close(runner.logits, logits, **TOL)
        torch.testing.assert_close(scores, expected, **TOL)
        assert runner.frames_seen.tolist() == [t] * 3
    # The streams are independent: stream 1 alone gives its own scores.
    alone = StreamingRecognizer(source)
    for t in range(frames):
        single = alone.step(clips[1:2, t])
    torch.testing.assert_close(single, scores[1:2], **TOL)


def test_tsm_head_and_tsn_backbone_stream_too() -> None:
    """TSMHead (consensus after fc) and a backbone with no temporal layer."""
    cfg = copy.deepcopy(CAUSAL_TINY)
    cfg['cls_head'] = dict(
        type='TSMHead',
        num_classes=8,
        in_channels=512,
        num_segments=8,
        is_shift=True,
        average_clips='prob')
    tsn = copy.deepcopy(CAUSAL_TINY)
    tsn['backbone'].update(with_cmem=False, temporal_cfg=None)
    clips = raw_clips(2, 3)
    for model_cfg in (cfg, tsn):
        source = build(8, cfg=model_cfg)
        runner = StreamingRecognizer(source)
        for t in range(1, 4):
            scores = runner.step(clips[:, t - 1])
            _, expected = offline(model_cfg, source.state_dict(), clips[:, :t],
                                  True)
            torch.testing.assert_close(scores, expected, **TOL)


def test_reset_restarts_all_or_some_streams() -> None:
    source = build(8)
    runner = StreamingRecognizer(source)
    clips = raw_clips(2, 4)
    first = [runner.step(clips[:, t]) for t in range(4)]
    assert runner.state_nbytes() > 0
    runner.reset()
    assert runner.num_streams is None and runner.state_nbytes() == 0
    again = [runner.step(clips[:, t]) for t in range(4)]
    for a, b in zip(first, again):
        assert torch.equal(a, b)
    # Restart stream 0 only; stream 1 goes on.
    runner.reset(streams=[0])
    assert runner.frames_seen.tolist() == [0, 4]
    # The layers learn which streams start anew once, from the reset, for
    # the one step that starts them.
    assert all(layer.fresh.tolist() == [True, False]
               for layer in runner.layers)
    other = raw_clips(1, 2)
    for t in range(2):
        frames = torch.cat([other[:, t], clips[1:, t]])
        scores = runner.step(frames)
        assert all(layer.fresh is None for layer in runner.layers)
    fresh = StreamingRecognizer(source)
    for t in range(2):
        expected = fresh.step(other[:, t])
    torch.testing.assert_close(scores[:1], expected, **TOL)
    _, continued = offline(CAUSAL_TINY, source.state_dict(),
                           torch.cat([clips[1:], clips[1:, :2]], 1), True)
    torch.testing.assert_close(scores[1:], continued, **TOL)


def test_the_wrapped_model_is_left_as_it_was() -> None:
    source = build(8)
    before = {k: v.clone() for k, v in source.state_dict().items()}
    runner = StreamingRecognizer(source)
    runner.step(raw_clips(1, 1)[:, 0])
    assert source.backbone.num_segments == 8
    assert type(source.backbone.layer1[0].cmem).__name__ == 'CMEM'
    for key, value in source.state_dict().items():
        assert torch.equal(value, before[key]), key
    # Weights are shared, not copied.
    assert (runner.model.backbone.conv1.weight.data_ptr() ==
            source.backbone.conv1.weight.data_ptr())


@pytest.mark.parametrize('backbone,match', [
    (dict(cmem_cfg=dict(causal=False)),
     r'backbone\.layer1\.0\.cmem: CMEM with causal=False'),
    (dict(temporal_cfg=dict(causal=False)),
     r'backbone\.layer1\.0\.clim\.temporal\.0: AdaptiveShift with '
     r'causal=False'),
    (dict(temporal_cfg=dict(type='TemporalConv1d', _delete_=True)),
     r'backbone\.layer1\.0\.clim\.temporal\.0: TemporalConv1d mixes'),
])
def test_non_causal_models_are_refused_naming_the_module(
        backbone: dict, match: str) -> None:
    cfg = Config(dict(model=copy.deepcopy(CAUSAL_TINY)))
    cfg.merge_from_dict(dict(model=dict(backbone=backbone)))
    model = MODELS.build(cfg.model)
    with pytest.raises(ValueError, match=match):
        StreamingRecognizer(model)


def test_other_backbones_and_heads_are_refused() -> None:
    tsm = Config.fromfile(
        str(config_path('_base_/models/img_res2net-tiny.py'))).model
    tsm.backbone = dict(
        type='ResNetTSM', depth=50, pretrained=None, pretrained2d=False)
    with pytest.raises(ValueError, match='ResNetTSM'):
        StreamingRecognizer(MODELS.build(tsm))
    cfg = copy.deepcopy(CAUSAL_TINY)
    cfg['cls_head']['spatial_type'] = None
    with pytest.raises(ValueError, match="spatial_type='avg'"):
        StreamingRecognizer(MODELS.build(cfg))


def test_step_checks_its_frames() -> None:
    runner = StreamingRecognizer(build(8))
    with pytest.raises(ValueError, match=r'\[B, 3, H, W\]'):
        runner.step(torch.zeros(1, 2, 3, SIZE, SIZE))
    runner.step(raw_clips(2, 1)[:, 0])
    with pytest.raises(ValueError, match='3 streams .* 2 streams'):
        runner.step(raw_clips(3, 1)[:, 0])
    with pytest.raises(IndexError, match='stream 5'):
        runner.reset(streams=[5])


RESNET_IMG = dict(
    type='Recognizer2D',
    backbone=dict(
        type='ResNetIMG',
        depth=50,
        num_segments=8,
        pretrained=None,
        num_stages=2,
        strides=(1, 2),
        dilations=(1, 1),
        out_indices=(1, ),
        cmem_cfg=dict(causal=True),
        temporal_cfg=dict(type='AdaptiveShift', causal=True)),
    cls_head=dict(
        type='TSNHead', num_classes=5, in_channels=512, average_clips='prob'),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[127.5] * 3,
        std=[64.0] * 3,
        format_shape='NCHW'))
TSM_PLACEMENT = copy.deepcopy(CAUSAL_TINY)
TSM_PLACEMENT['backbone'].update(
    with_cmem=False,
    temporal_cfg=None,
    input_temporal_cfg=dict(type='AdaptiveShift', shift_div=4, causal=True))


@pytest.mark.parametrize(
    'model_cfg', [RESNET_IMG, TSM_PLACEMENT],
    ids=['resnet_img', 'tsm_placement'])
def test_other_causal_placements_stream_exactly(model_cfg: dict) -> None:
    source = build(8, channels_last=False, cfg=model_cfg)
    runner = StreamingRecognizer(source)
    clips = raw_clips(2, 4)
    for t in range(1, 5):
        scores = runner.step(clips[:, t - 1])
        logits, expected = offline(model_cfg, source.state_dict(),
                                   clips[:, :t], False)
        torch.testing.assert_close(runner.logits, logits, **TOL)
        torch.testing.assert_close(scores, expected, **TOL)
