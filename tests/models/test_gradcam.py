"""MMAction2's own GradCAM works on both IMG backbones.

GradCAM hooks one module and pairs its forward output with its backward
gradient; a module called twice per forward (one ReLU reused) pairs the
wrong two. Each activation of our blocks is its own module.
"""
import pytest
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmaction.utils import GradCAM

T = 4
BACKBONES = {
    'Res2NetIMG':
    dict(
        type='Res2NetIMG',
        num_segments=T,
        base_channels=16,
        stem_channels=16,
        stage_blocks=(2, 1, 1, 2),
        temporal_cfg=dict(type='AdaptiveShift', shift_div=2)),
    'ResNetIMG':
    dict(type='ResNetIMG', depth=50, num_segments=T, pretrained=None),
}
CHANNELS = {'Res2NetIMG': 512, 'ResNetIMG': 2048}


@pytest.mark.parametrize('name', sorted(BACKBONES))
@pytest.mark.parametrize('target',
                         ['backbone/layer4/0/relu', 'backbone/layer4/1/relu'])
def test_gradcam_heatmap_has_the_input_shape_and_content(
        name: str, target: str) -> None:
    if name == 'ResNetIMG' and target.endswith('1/relu'):
        target = 'backbone/layer3/1/relu'
    torch.manual_seed(0)
    model = MODELS.build(
        dict(
            type='Recognizer2D',
            backbone=BACKBONES[name],
            cls_head=dict(
                type='TSMHead',
                num_classes=3,
                in_channels=CHANNELS[name],
                num_segments=T),
            data_preprocessor=dict(
                type='ActionDataPreprocessor',
                mean=[127.5] * 3,
                std=[64.0] * 3,
                format_shape='NCHW')))
    model.init_weights()
    frames = torch.randint(0, 256, (T, 3, 64, 64), dtype=torch.uint8)
    data = dict(
        inputs=[frames], data_samples=[ActionDataSample().set_gt_label(1)])
    gradcam = GradCAM(model, target)
    heatmap, _ = gradcam._calculate_localization_map(data, use_labels=False)
    assert tuple(heatmap.shape) == (1, T, 64, 64)
    assert torch.isfinite(heatmap).all()
    assert heatmap.max() - heatmap.min() > 0.5  # normalised, not constant
    blended, preds = gradcam(data)
    assert tuple(blended.shape) == (1, T, 64, 64, 3)
    assert preds.shape == (1, 3)
