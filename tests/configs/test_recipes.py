"""Every recipe builds and steps; the 10x3 protocol; the fine-tune path."""
import copy
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmaction.registry import DATASETS, MODELS
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.runner import Runner

from img_mmaction.testing import (TINY_TSM_CONFIG, make_rawframe_dataset,
                                  make_video_dataset)

REPO = Path(__file__).resolve().parents[2]
#: Every leaf recipe (configs/_base_ holds the bases).
RECIPES = sorted(
    p for p in (REPO / 'configs').rglob('*.py') if '_base_' not in p.parts)
STHV1 = REPO / ('configs/img/img_imagenet-pretrained-res2net50-w26-s4_'
                '8xb4-1x1x8-50e_sthv1-rgb.py')
STHV1_10X3 = STHV1.with_name(STHV1.stem + '_test-8x3x10.py')
UCF101 = REPO / ('configs/finetune/img_sthv1-pretrained-res2net50-w26-s4_'
                 '8xb4-1x1x8-25e_ucf101-split1-rgb.py')
TINY_RES2NET = dict(
    base_channels=16,
    stem_channels=16,
    temporal_cfg=dict(
        type='AdaptiveShift', shift_div=2, init='tsm', frozen=False))


def offline(cfg: Config) -> Config:
    """Turns off downloads: no ImageNet weights in tests."""
    backbone = cfg.model.backbone
    backbone.pretrained = None
    if backbone.type == 'ResNetTSM':
        backbone.pretrained2d = False
    return cfg


def test_all_recipes_are_found() -> None:
    folders = {}
    for path in RECIPES:
        folders.setdefault(path.parent.name, []).append(path.name)
    assert {
        k: len(v)
        for k, v in folders.items()
    } == {
        'img': 4,
        'finetune': 12,
        'ablations': 8,
        'demo': 2,
        'evidence': 13,
        'examples': 1,
        'online': 3
    }
    names = [p.name for p in RECIPES]
    assert sum('ucf101' in n for n in names) == 6
    assert sum('hmdb51' in n for n in names) == 6
    assert sum('sthv2' in n for n in names) == 1
    assert sum('kinetics400' in n for n in names) == 2  # img + examples


@pytest.mark.parametrize('path', RECIPES, ids=lambda p: p.stem[:60])
def test_recipe_builds_and_steps(path: Path) -> None:
    cfg = offline(Config.fromfile(str(path)))
    assert 'img_mmaction' in cfg.custom_imports['imports']
    model = MODELS.build(cfg.model)
    num_classes = cfg.model.cls_head.num_classes
    segments = cfg.model.backbone.num_segments
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)

    def batch(views: int) -> dict:
        inputs = [
            torch.randint(
                0, 255, (views * segments, 3, 32, 32), dtype=torch.uint8)
            for _ in range(2)
        ]
        samples = [
            ActionDataSample().set_gt_label(i % num_classes) for i in range(2)
        ]
        return dict(inputs=inputs, data_samples=samples)

    model.train()
    losses = model.train_step(batch(1), optim_wrapper)
    assert torch.isfinite(losses['loss_cls'])
    model.eval()
    outputs = model.test_step(batch(30))  # 10 clips x 3 crops
    assert len(outputs) == 2
    assert outputs[0].pred_score.shape == (num_classes, )
    assert float(outputs[0].pred_score.sum()) == pytest.approx(1.0, abs=1e-4)


# -- the accurate protocol: 10 offsets x 3 crops ------------------------------
def write_coded_video(root: Path, total_frames: int) -> None:
    """Frames whose red channel is 3*t and whose thirds differ in green."""
    folder = root / 'video'
    folder.mkdir(parents=True)
    for t in range(1, total_frames + 1):
        frame = np.zeros((256, 384, 3), np.uint8)
        frame[..., 2] = 3 * t  # BGR: red
        frame[:, :128, 1], frame[:, 128:256, 1], frame[:, 256:, 1] = 40, 120, \
            200
        cv2.imwrite(
            str(folder / f'{t:05}.jpg'), frame,
            [cv2.IMWRITE_JPEG_QUALITY, 100])
    (root / 'ann.txt').write_text(f'video {total_frames} 0\n')


def test_30_views_are_10_offsets_x_3_crops_in_recognizer_order(tmp_path: Path
                                                               ) -> None:
    total = 80
    write_coded_video(tmp_path, total)
    cfg = Config.fromfile(str(STHV1_10X3))
    dataset_cfg = copy.deepcopy(cfg.test_dataloader.dataset)
    dataset_cfg.update(
        ann_file=str(tmp_path / 'ann.txt'),
        data_prefix=dict(img=str(tmp_path)))
    sample = DATASETS.build(dataset_cfg)[0]
    inputs = sample['inputs']  # [30 views * 8, 3, 256, 256]
    assert tuple(inputs.shape) == (240, 3, 256, 256)
    views = inputs.view(30, 8, 3, 256, 256).float()
    frame_of = (views[:, :, 0].mean((2, 3)) / 3).round().long() - 1
    crop_green = views[:, :, 1].mean((1, 2, 3))
    segment = total / 8
    offsets = []
    for view in range(30):
        crop, clip = divmod(view, 10)  # ThreeCrop stacks crops crop-major
        expected = [
            int(segment * s + segment * (clip + 0.5) / 10) for s in range(8)
        ]
        assert frame_of[view].tolist() == expected, view
        offsets.append(tuple(expected))
    # Each block of 10 views is one crop (constant green: 80, 120 or 160
    # for the left, center and right crop of the 384-wide frames).
    greens = crop_green.view(3, 10)
    assert (greens.max(1).values - greens.min(1).values).max() < 2
    assert sorted(greens[:, 0].round().tolist()) == [80.0, 120.0, 160.0]
    assert len(set(offsets)) == 10  # 10 distinct offset sets, each 3 crops


def test_sampler_is_deterministic_in_test_mode_only() -> None:
    from img_mmaction.datasets import MultiOffsetSampleFrames
    test = MultiOffsetSampleFrames(8, 10, test_mode=True)
    assert np.array_equal(test.frame_indices(50), test.frame_indices(50))
    train = MultiOffsetSampleFrames(8, 10, test_mode=False)
    assert not np.array_equal(
        train.frame_indices(500), train.frame_indices(500))
    short = test.frame_indices(3)  # fewer frames than segments
    assert short.min() >= 0 and short.max() <= 2
    with pytest.raises(ValueError, match='total_frames=0'):
        test.frame_indices(0)


# -- real pipelines of the recipes on tiny datasets ---------------------------
def test_sthv1_and_ucf101_pipelines_on_tiny_datasets(tmp_path: Path) -> None:
    frames_dir, frames_ann = make_rawframe_dataset(
        tmp_path / 'sthv1', num_videos=2, num_frames=[12, 20])
    videos_dir, videos_ann = make_video_dataset(
        tmp_path / 'ucf101', num_videos=2)
    for path, ann, prefix in ((STHV1, frames_ann, dict(img=str(frames_dir))),
                              (UCF101, videos_ann,
                               dict(video=str(videos_dir)))):
        cfg = Config.fromfile(str(path))
        for loader in ('train_dataloader', 'test_dataloader'):
            dataset_cfg = copy.deepcopy(cfg[loader].dataset)
            dataset_cfg.update(ann_file=str(ann), data_prefix=prefix)
            sample = DATASETS.build(dataset_cfg)[1]
            assert tuple(sample['inputs'].shape) == (8, 3, 224, 224), loader


# -- fine-tuning a 174-class SthV1 model on UCF101 ----------------------------
def tiny(cfg: Config, work_dir: Path, ann: Path, prefix: dict) -> Config:
    """Shrinks a recipe to a 1-iteration CPU run on a tiny dataset."""
    cfg = offline(cfg)
    cfg.model.backbone.update(TINY_RES2NET)
    cfg.model.cls_head.in_channels = 512
    cfg.work_dir = str(work_dir)
    cfg.train_cfg.update(max_epochs=1, val_interval=10)
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.default_hooks.checkpoint.save_best = None
    cfg.auto_scale_lr.enable = False
    loader = cfg.train_dataloader
    loader.update(batch_size=2, num_workers=0, persistent_workers=False)
    loader.dataset.update(ann_file=str(ann), data_prefix=prefix)
    for step in loader.dataset.pipeline:
        if step['type'] == 'Resize' and step['scale'] == (-1, 256):
            step['scale'] = (-1, 40)
        if step['type'] == 'MultiScaleCrop':
            step['input_size'] = 32
        if step['type'] == 'Resize' and step['scale'] == (224, 224):
            step['scale'] = (32, 32)
    return cfg


def test_finetune_from_a_sthv1_run_reinitialises_only_the_classifier(
        tmp_path: Path) -> None:
    frames_dir, frames_ann = make_rawframe_dataset(tmp_path / 's', 2)
    sthv1 = tiny(
        Config.fromfile(str(STHV1)), tmp_path / 'sthv1', frames_ann,
        dict(img=str(frames_dir)))
    Runner.from_cfg(sthv1).train()
    checkpoint = tmp_path / 'sthv1' / 'epoch_1.pth'
    assert checkpoint.is_file()

    videos_dir, videos_ann = make_video_dataset(tmp_path / 'u', 2)
    ucf = tiny(
        Config.fromfile(str(UCF101)), tmp_path / 'ucf', videos_ann,
        dict(video=str(videos_dir)))
    ucf.load_from = str(checkpoint)
    ucf.train_cfg.max_epochs = 0  # load, do not train
    runner = Runner.from_cfg(ucf)
    runner.load_or_resume()
    source = torch.load(checkpoint, weights_only=True)['state_dict']
    loaded = runner.model.state_dict()
    differing = sorted(k for k, v in loaded.items()
                       if k not in source or v.shape != source[k].shape
                       or not torch.equal(v, source[k]))
    assert differing == ['cls_head.fc_cls.bias', 'cls_head.fc_cls.weight']
    assert loaded['cls_head.fc_cls.weight'].shape[0] == 101
    log = next((tmp_path / 'ucf').glob('*/*.log')).read_text()
    assert ('Fine-tuning: re-initialised only cls_head.fc_cls.bias '
            '(checkpoint (174,) -> model (101,)), cls_head.fc_cls.weight '
            '(checkpoint (174, 512) -> model (101, 512))') in log


def test_finetune_hook_refuses_other_mismatches(tmp_path: Path) -> None:
    from img_mmaction.engine import FinetuneCheckpointHook
    videos_dir, videos_ann = make_video_dataset(tmp_path / 'u', 2)
    ucf = tiny(
        Config.fromfile(str(UCF101)), tmp_path / 'ucf', videos_ann,
        dict(video=str(videos_dir)))
    runner = Runner.from_cfg(ucf)
    state = {k: v.clone() for k, v in runner.model.state_dict().items()}
    state['backbone.conv1.weight'] = torch.zeros(1)
    with pytest.raises(ValueError, match='backbone.conv1.weight'):
        FinetuneCheckpointHook().after_load_checkpoint(runner,
                                                       {'state_dict': state})


def test_syncbn_configs_build() -> None:
    cfg = Config.fromfile(str(STHV1))
    cfg.model.backbone.update(
        pretrained=None, norm_cfg=dict(type='SyncBN', requires_grad=True))
    model = MODELS.build(cfg.model)
    sync = [
        m for m in model.modules() if isinstance(m, torch.nn.SyncBatchNorm)
    ]
    assert len(sync) > 50  # stem, blocks and CLIM slices
    converted = torch.nn.SyncBatchNorm.convert_sync_batchnorm(
        MODELS.build(Config.fromfile(str(TINY_TSM_CONFIG)).model))
    assert any(
        isinstance(m, torch.nn.SyncBatchNorm) for m in converted.modules())
