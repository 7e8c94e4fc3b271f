"""Causal modules (OURS): their mode is in their weights, and they own their
stream cache, so a new causal layer streams without an edit elsewhere."""
import copy
from typing import List, Optional, Sequence, Tuple

import pytest
import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.runner.checkpoint import load_state_dict as mmengine_load

from img_mmaction.models import (CMEM, AdaptiveShift, StreamableModule,
                                 StreamingRecognizer)
from img_mmaction.utils import (CheckpointMismatchError,
                                load_checkpoint_strictly)
from .test_streaming import CAUSAL_TINY, TOL, build, offline, raw_clips


def _tiny(causal: bool, with_shift: bool = True) -> nn.Module:
    """The tiny IMG recognizer, causal or not, with or without the shift."""
    cfg = copy.deepcopy(CAUSAL_TINY)
    backbone = cfg['backbone']
    backbone['cmem_cfg'] = dict(backbone['cmem_cfg'], causal=causal)
    backbone['temporal_cfg'] = (
        dict(backbone['temporal_cfg'], causal=causal) if with_shift else None)
    return MODELS.build(cfg).eval()


def test_a_causal_module_keeps_its_mode_in_its_weights() -> None:
    for causal in (True, False):
        cmem = CMEM(32, num_segments=4, causal=causal)
        shift = AdaptiveShift(32, num_segments=4, causal=causal)
        for module in (cmem, shift):
            assert ('causal_marker' in module.state_dict()) is causal


def test_strict_load_refuses_the_other_mode_by_name() -> None:
    """A CMEM-only offline checkpoint has the causal model's shapes."""
    offline_state = _tiny(causal=False, with_shift=False).state_dict()
    causal_model = _tiny(causal=True, with_shift=False)
    with pytest.raises(
            RuntimeError,
            match=r'backbone.layer1.0.cmem: the checkpoint holds offline '
            r'\(causal=False\) weights for this causal module'):
        causal_model.load_state_dict(offline_state)
    with pytest.raises(
            RuntimeError,
            match=r'backbone.layer1.0.cmem: the checkpoint holds causal '
            r'weights \(causal=True\) for this offline module'):
        _tiny(
            causal=False,
            with_shift=False).load_state_dict(causal_model.state_dict())


def test_load_checkpoint_strictly_says_which_side_is_causal(tmp_path) -> None:
    path = tmp_path / 'offline.pth'
    torch.save({'state_dict': _tiny(causal=False).state_dict()}, path)
    with pytest.raises(CheckpointMismatchError) as error:
        load_checkpoint_strictly(_tiny(causal=True), str(path))
    message = str(error.value)
    assert 'trained with offline ones' in message
    assert len(message.splitlines()) < 20  # a summary, not every key
    assert '... and' in message


def test_non_strict_load_warns_by_name_and_the_stream_refuses(capsys) -> None:
    """mmengine's non-strict load (init_recognizer, load_from) only logs a
    mismatch: the causal modules name it, and streaming refuses them."""
    for with_shift in (False, True):
        causal_model = _tiny(causal=True, with_shift=with_shift)
        mmengine_load(causal_model,
                      _tiny(causal=False, with_shift=with_shift).state_dict())
        logged = capsys.readouterr().out
        assert ('backbone.layer1.0.cmem: the checkpoint holds offline '
                '(causal=False) weights') in logged
        with pytest.raises(
                ValueError,
                match=r'backbone.layer1.0.cmem: CMEM weights loaded from an '
                r'offline \(causal=False\) checkpoint'):
            StreamingRecognizer(causal_model)
        # Loading causal weights again makes it streamable.
        causal_model.load_state_dict(
            _tiny(causal=True, with_shift=with_shift).state_dict())
        StreamingRecognizer(causal_model)


class CausalDifference(StreamableModule):
    """A causal layer this test adds: ``x(t) - a * x(t-1)`` per channel.

    Nothing in the streaming runner or the ONNX exporter knows it.
    """

    cache_parts = ('x', )
    cache_fill = (0.0, )

    def __init__(self, channels: int, num_segments: int) -> None:
        super().__init__(causal=True)
        self.num_segments = num_segments
        self.weight = nn.Parameter(torch.linspace(-1, 1, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # [N*T, C, H, W] -> [N, T, C, H, W]
        frames = x.view(-1, self.num_segments, *x.shape[1:])
        previous = torch.cat([torch.zeros_like(frames[:, :1]), frames[:, :-1]],
                             dim=1)
        out = frames - self.weight[:, None, None] * previous
        # [N, T, C, H, W] -> [N*T, C, H, W]
        return out.reshape(x.shape)

    def stream_step(self, x: torch.Tensor, cache: Optional[torch.Tensor],
                    fresh: Optional[torch.Tensor]
                    ) -> Tuple[torch.Tensor, torch.Tensor]:
        if cache is None:
            return x, x
        if fresh is not None:
            cache = cache.masked_fill(fresh[:, None, None, None], 0.0)
        return x - self.weight[:, None, None] * cache, x

    def cache_tensors(self, cache: torch.Tensor) -> List[torch.Tensor]:
        return [cache]

    def cache_from_tensors(self,
                           tensors: Sequence[torch.Tensor]) -> torch.Tensor:
        return tensors[0]


def test_a_new_causal_layer_streams_in_torch_and_onnxruntime() -> None:
    """Registered nowhere but in its config: frame by frame equals the
    offline model on frames 1..t, in PyTorch and in ONNX Runtime."""
    pytest.importorskip('onnxruntime')
    from img_mmaction.deploy.onnx_stream import OnnxStreamingRecognizer
    cfg = copy.deepcopy(CAUSAL_TINY)
    cfg['backbone']['temporal_cfg'] = dict(type=CausalDifference)
    source = build(6, cfg=cfg)
    state = source.state_dict()
    runners = [
        StreamingRecognizer(source),
        OnnxStreamingRecognizer(source, frame_size=raw_clips(1, 1).shape[-2:])
    ]
    assert any(
        isinstance(layer.module, CausalDifference)
        for layer in runners[0].layers)
    clips = raw_clips(2, 4)
    for t in range(1, 5):
        _, expected = offline(cfg, state, clips[:, :t], True)
        for runner in runners:
            torch.testing.assert_close(
                runner.step(clips[:, t - 1]), expected, **TOL)
