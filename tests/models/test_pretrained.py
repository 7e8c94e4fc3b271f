"""ImageNet Res2Net weights load into Res2NetIMG strictly, with a report."""
from pathlib import Path

import pytest
import torch
from mmaction.registry import MODELS

from img_mmaction.models import (PretrainedMismatchError, Res2NetIMG,
                                 load_res2net_imagenet, map_res2net_key)
from .reference_res2net import Res2Net
from .test_res2net_img import TINY, save_official_format
from .utils import randomize_

T = 4


@pytest.fixture(scope='module')
def official_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Res2Net in the official key format, ``fc`` included."""
    torch.manual_seed(1)
    reference = randomize_(Res2Net(base_channels=16, stem_channels=16))
    path = tmp_path_factory.mktemp('ckpt') / 'res2net50_26w_4s-tiny.pth'
    save_official_format(reference, path)
    return path


def test_pretrained_loads_every_res2net_key_and_reports_new_ones(
        official_checkpoint: Path, tmp_path: Path) -> None:
    from mmengine.logging import MMLogger
    log_file = tmp_path / 'load.log'
    MMLogger.get_instance('test_pretrained_report', log_file=str(log_file))
    reference = Res2Net(base_channels=16, stem_channels=16)
    reference.load_state_dict(
        torch.load(official_checkpoint, weights_only=True))
    model = Res2NetIMG(
        with_cmem=True, pretrained=str(official_checkpoint), **TINY)
    model.init_weights()
    loaded = model.state_dict()
    for key, value in reference.state_dict().items():
        if key.startswith('fc.'):
            continue
        assert torch.equal(loaded[map_res2net_key(key)], value), key
    out = log_file.read_text()
    assert 'new IMG tensors' in out and "unused: ['fc.bias', 'fc.weight']" \
        in out
    assert 'layer1.0.cmem.conv_prev.weight' in out
    assert 'layer4.2.clim.temporal.2.weight' in out


@pytest.mark.parametrize('channels_last', [False, True])
def test_plain_res2net_configuration_reproduces_reference_features(
        official_checkpoint: Path, channels_last: bool) -> None:
    reference = Res2Net(base_channels=16, stem_channels=16).eval()
    reference.load_state_dict(
        torch.load(official_checkpoint, weights_only=True))
    model = MODELS.build(
        dict(
            TINY,
            type='Res2NetIMG',
            with_cmem=False,
            temporal_cfg=None,
            channels_last=channels_last,
            init_cfg=dict(
                type='Pretrained', checkpoint=str(official_checkpoint))))
    model.init_weights()
    model.eval()
    x = torch.randn(2 * T, 3, 64, 64)
    expected = reference.features(x)
    if not channels_last:  # the reference's own layout: same kernels
        torch.testing.assert_close(model(x), expected)
        return
    # The random checkpoint grows features to ~1e13; another layout sums
    # in another order, so compare relative to the largest feature.
    scale = expected.abs().max()
    torch.testing.assert_close(
        model(x) / scale, expected / scale, rtol=0, atol=1e-5)


def test_pretrained_accepts_state_dict_wrapper_and_module_prefix(
        official_checkpoint: Path, tmp_path: Path) -> None:
    state = torch.load(official_checkpoint, weights_only=True)
    path = tmp_path / 'wrapped.pth'
    torch.save({'state_dict': {
        f'module.{k}': v
        for k, v in state.items()
    }}, path)
    model = Res2NetIMG(**TINY)
    report = load_res2net_imagenet(model, str(path))
    assert report['unused'] == ['fc.bias', 'fc.weight']
    assert torch.equal(model.layer2.state_dict()['0.clim.convs.1.weight'],
                       state['layer2.0.convs.1.weight'])


def test_pretrained_mismatch_is_a_hard_error(tmp_path: Path) -> None:
    wrong = Res2Net(base_channels=8, stem_channels=16)  # other widths
    path = tmp_path / 'wrong.pth'
    save_official_format(wrong, path)
    model = Res2NetIMG(pretrained=str(path), **TINY)
    with pytest.raises(PretrainedMismatchError, match='shape mismatches'):
        model.init_weights()
    state = Res2Net(base_channels=16, stem_channels=16).state_dict()
    state['layer9.0.conv1.weight'] = torch.zeros(1)
    del state['layer1.0.bn3.weight']
    torch.save(state, path)
    with pytest.raises(PretrainedMismatchError) as err:
        Res2NetIMG(pretrained=str(path), **TINY).init_weights()
    assert 'layer9.0.conv1.weight' in str(err.value)
    assert 'layer1.0.bn3.weight' in str(err.value)
