"""The causal forms (OURS) reached through the backbones' configs."""
import pytest
import torch

from img_mmaction.models import CMEM, AdaptiveShift, Res2NetIMG, ResNetIMG
from .utils import randomize_

T = 4
CAUSAL = dict(
    cmem_cfg=dict(reduction=4, causal=True),
    temporal_cfg=dict(type='AdaptiveShift', shift_div=2, causal=True))
TINY = dict(
    base_channels=16, stem_channels=16, num_segments=T, stage_blocks=(1, ) * 4)


def causal_flags(model: torch.nn.Module) -> set:
    return {
        m.causal
        for m in model.modules() if isinstance(m, (CMEM, AdaptiveShift))
    }


def test_configs_reach_every_module() -> None:
    model = Res2NetIMG(**TINY, **CAUSAL)
    assert causal_flags(model) == {True}
    assert all(m.weight.shape[1] == 2 for m in model.modules()
               if isinstance(m, AdaptiveShift))
    offline = Res2NetIMG(
        **TINY, temporal_cfg=dict(type='AdaptiveShift', shift_div=2))
    assert causal_flags(offline) == {False}  # the paper's
    resnet = ResNetIMG(
        depth=50, num_segments=T, pretrained=None, norm_eval=False, **CAUSAL)
    assert causal_flags(resnet) == {True}


def first_dependent_frame(model: torch.nn.Module, x: torch.Tensor,
                          t: int) -> int:
    """The last input frame that output frame t depends on (exactly)."""
    x = x.clone().requires_grad_(True)
    out = model(x.view(-1, *x.shape[2:]))
    out = out.view(x.shape[0], T, *out.shape[1:])
    grad, = torch.autograd.grad(out[:, t].sum(), x)
    dependent = [s for s in range(T) if torch.count_nonzero(grad[:, s]) > 0]
    return max(dependent)


@pytest.mark.parametrize('channels_last', [True, False])
def test_causal_res2net_output_at_t_never_depends_on_later_frames(
        channels_last: bool) -> None:
    """Exact: the gradient of output frame t to any later frame is 0.

    In eval mode (BN's batch statistics in training mix every frame of the
    batch, causal or not).
    """
    x = torch.randn(2, T, 3, 32, 32)
    causal = randomize_(
        Res2NetIMG(**TINY, **CAUSAL, channels_last=channels_last)).eval()
    for t in range(T):
        assert first_dependent_frame(causal, x, t) == t
    # The paper's IMG (the test can fail): frame 0 already sees the last.
    offline = randomize_(
        Res2NetIMG(
            **TINY,
            cmem_cfg=dict(reduction=4),
            temporal_cfg=dict(type='AdaptiveShift', shift_div=2))).eval()
    assert first_dependent_frame(offline, x, 0) == T - 1


def test_causal_tsm_placement_and_resnet_img_are_causal() -> None:
    x = torch.randn(1, T, 3, 32, 32)
    tsm = randomize_(
        Res2NetIMG(
            **TINY,
            with_cmem=False,
            temporal_cfg=None,
            input_temporal_cfg=dict(
                type='AdaptiveShift', shift_div=4, causal=True))).eval()
    resnet = randomize_(
        ResNetIMG(
            depth=50,
            num_segments=T,
            pretrained=None,
            num_stages=2,
            strides=(1, 2),
            dilations=(1, 1),
            out_indices=(1, ),
            **CAUSAL))
    resnet.eval()  # MMAction2's ResNet.train() returns None
    for model in (tsm, resnet):
        assert [first_dependent_frame(model, x, t)
                for t in range(T)] == [0, 1, 2, 3]
