"""Training on CUDA: train_step, AMP, DDP over NCCL, SyncBN.

Skipped without a GPU (``IMG_CUDA_DRY_RUN=1`` runs this code on the CPU with
gloo, a check of the tests only; AMP and SyncBN then skip: mmengine's
AmpOptimWrapper and SyncBatchNorm need a GPU).
The recognizer is the tiny demo recipe's (Res2NetIMG with CMEM and the
adaptive shift), its optimizer wrapper built by IMGOptimWrapperConstructor
with SGD (the SthV1 recipes' optimizer), so one step moves each parameter
by ``-lr * gradient`` (+ weight decay) and two steps can be compared.
"""
import contextlib
import copy
from typing import Callable, Dict, Iterator, Tuple

import pytest
import torch
import torch.distributed as dist
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.model import MMDistributedDataParallel
from mmengine.optim import build_optim_wrapper

from img_mmaction.testing import TINY_TSM_CONFIG
from img_mmaction.testing.devices import (cuda_test_device, cuda_tests_can_run,
                                          dry_run, single_process_group)
from img_mmaction.utils import config_path

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not cuda_tests_can_run(), reason='needs a CUDA device'),
    pytest.mark.usefixtures('full_float32')
]
DEVICE = cuda_test_device()
DEMO_IMG = config_path(
    'demo/img_res2net-tiny_1xb8-1x1x8-12e_motion-demo-rgb.py')
#: Relative error of a step's parameter updates, CPU vs GPU in float32.
FP32_TOL = 1e-3

Params = Dict[str, torch.Tensor]


@pytest.fixture(scope='module')
def process_group() -> Iterator[None]:
    """A one-process NCCL group (gloo in a dry run) for DDP and SyncBN."""
    with single_process_group('gloo' if dry_run() else 'nccl'):
        yield


def tiny_cfg(path=DEMO_IMG) -> Config:
    """A tiny recipe with SGD and no dropout (the same loss on any device).

    Args:
        path: The recipe. Defaults to the tiny IMG demo recipe.

    Returns:
        The config, offline (no pretrained weights).
    """
    cfg = Config.fromfile(str(path))
    cfg.model.cls_head.dropout_ratio = 0.0
    if cfg.model.backbone.type == 'ResNetTSM':
        cfg.model.backbone.update(pretrained=None, pretrained2d=False)
    cfg.optim_wrapper.optimizer = dict(
        type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4)
    return cfg


def batch(cfg: Config, clips: int = 2, size: int = 32) -> dict:
    """A seeded batch of uint8 clips as the data loader gives them."""
    generator = torch.Generator().manual_seed(0)
    segments = cfg.model.backbone.num_segments
    inputs = [
        torch.randint(
            0,
            255, (segments, 3, size, size),
            dtype=torch.uint8,
            generator=generator) for _ in range(clips)
    ]
    classes = cfg.model.cls_head.num_classes
    samples = [
        ActionDataSample().set_gt_label(i % classes) for i in range(clips)
    ]
    return dict(inputs=inputs, data_samples=samples)


def train_step(model: torch.nn.Module, cfg: Config,
               data: dict) -> Tuple[float, Params]:
    """One ``train_step`` with the recipe's optimizer wrapper.

    Args:
        model: The recognizer (or its DDP wrapper), on its device.
        cfg: The recipe.
        data: The batch (:func:`batch`).

    Returns:
        The loss and each parameter's update (after - before), on the CPU.
    """
    inner = getattr(model, 'module', model)
    before = {n: p.detach().cpu().clone() for n, p in inner.named_parameters()}
    wrapper = build_optim_wrapper(model, copy.deepcopy(cfg.optim_wrapper))
    model.train()
    losses = model.train_step(copy.deepcopy(data), wrapper)
    updates = {
        n: p.detach().cpu() - before[n]
        for n, p in inner.named_parameters()
    }
    return float(losses['loss_cls'].detach()), updates


def assert_updates_close(actual: Params, expected: Params, tol: float) -> None:
    """Each parameter moved as in ``expected``, to a relative ``tol``."""
    assert actual.keys() == expected.keys()
    moved = 0
    for name, update in expected.items():
        error = (actual[name] - update).norm()
        assert error <= tol * update.norm() + 1e-9, name
        moved += bool(update.abs().max() > 0)
    assert moved == len(expected)  # SGD moved every parameter


def test_recipe_uses_the_img_constructor() -> None:
    assert tiny_cfg().optim_wrapper.constructor == \
        'IMGOptimWrapperConstructor'


def test_train_step_equals_cpu() -> None:
    cfg = tiny_cfg()
    model = MODELS.build(cfg.model)
    on_device = copy.deepcopy(model).to(DEVICE)
    data = batch(cfg)
    expected_loss, expected = train_step(model, cfg, data)
    loss, updates = train_step(on_device, cfg, data)
    assert next(on_device.parameters()).device.type == DEVICE.type
    assert loss == pytest.approx(expected_loss, rel=1e-4)
    assert_updates_close(updates, expected, FP32_TOL)


@pytest.mark.skipif(dry_run(), reason='AmpOptimWrapper needs a GPU')
@pytest.mark.parametrize('dtype', ['float16', 'bfloat16'])
def test_amp_train_step_is_finite_and_close(dtype: str) -> None:
    cfg = tiny_cfg()
    model = MODELS.build(cfg.model).to(DEVICE)
    amp = copy.deepcopy(model)
    data = batch(cfg)
    expected_loss, _ = train_step(model, cfg, data)
    cfg.optim_wrapper.update(type='AmpOptimWrapper', dtype=dtype)
    loss, updates = train_step(amp, cfg, data)
    assert loss == pytest.approx(expected_loss, rel=0.05)
    for name, update in updates.items():
        assert torch.isfinite(update).all(), name
    assert all(torch.isfinite(p).all() for p in amp.parameters())


def ddp(model: torch.nn.Module) -> MMDistributedDataParallel:
    """The model in mmengine's DDP wrapper, as the runner wraps it."""
    return MMDistributedDataParallel(
        module=model,
        device_ids=[DEVICE.index or 0] if DEVICE.type == 'cuda' else None,
        broadcast_buffers=False)


def test_ddp_step_in_one_process_equals_a_plain_step(process_group) -> None:
    cfg = tiny_cfg()
    model = MODELS.build(cfg.model).to(DEVICE)
    plain = copy.deepcopy(model)
    data = batch(cfg)
    expected_loss, expected = train_step(plain, cfg, data)
    loss, updates = train_step(ddp(model), cfg, data)
    assert dist.get_backend() == ('gloo' if dry_run() else 'nccl')
    assert loss == pytest.approx(expected_loss, rel=1e-5)
    assert_updates_close(updates, expected, 1e-5)


def sync_batch_norms(model: torch.nn.Module) -> int:
    """The number of SyncBatchNorm layers in ``model``."""
    return sum(isinstance(m, torch.nn.SyncBatchNorm) for m in model.modules())


@pytest.mark.skipif(dry_run(), reason='SyncBatchNorm runs only on GPUs')
@pytest.mark.parametrize('how', ['norm_cfg', 'convert'])
def test_syncbn_img_recipe_steps_as_bn_in_one_process(process_group,
                                                      how: str) -> None:
    """World size 1: SyncBN's statistics are BN's, and so is the step.

    With one process ``SyncBatchNorm.forward`` takes ``F.batch_norm`` (torch
    syncs only when the world size is above 1): this checks that the
    recipe builds, converts, wraps and steps on the GPU, not the exchange
    of statistics between processes.
    """
    cfg = tiny_cfg()
    plain = MODELS.build(cfg.model).to(DEVICE)
    if how == 'norm_cfg':
        cfg_sync = copy.deepcopy(cfg)
        cfg_sync.model.backbone.norm_cfg = dict(
            type='SyncBN', requires_grad=True)
        torch.manual_seed(0)
        model = MODELS.build(cfg_sync.model).to(DEVICE)
        model.load_state_dict(plain.state_dict())
    else:
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(
            copy.deepcopy(plain))
    assert sync_batch_norms(model) > 10  # stem, blocks, CLIM slices
    data = batch(cfg)
    expected_loss, expected = train_step(plain, cfg, data)
    loss, updates = train_step(ddp(model), cfg, data)
    assert loss == pytest.approx(expected_loss, rel=1e-4)
    assert_updates_close(updates, expected, FP32_TOL)
    torch.testing.assert_close(model.state_dict()['backbone.bn1.running_var'],
                               plain.state_dict()['backbone.bn1.running_var'])


@contextlib.contextmanager
def recorded_gradients(model: torch.nn.Module) -> Iterator[Params]:
    """Each trainable parameter's gradient in the backward passes within.

    The optimizer wrapper zeroes ``.grad`` after its step, so hooks keep
    a copy (on the CPU) of what backward gives each parameter.

    Args:
        model: The model (not its DDP wrapper).

    Yields:
        Parameter name -> its gradient, filled as backward runs.
    """
    grads: Params = {}

    def record(name: str) -> Callable[[torch.Tensor], None]:

        def hook(grad: torch.Tensor) -> None:
            grad = grad.detach().cpu().clone()
            grads[name] = grads[name] + grad if name in grads else grad

        return hook

    handles = [
        param.register_hook(record(name))
        for name, param in model.named_parameters() if param.requires_grad
    ]
    try:
        yield grads
    finally:
        for handle in handles:
            handle.remove()


@pytest.mark.skipif(dry_run(), reason='SyncBatchNorm runs only on GPUs')
def test_syncbn_stock_tsm_recipe_steps(process_group) -> None:
    """World size 1: each SyncBN layer tracks this batch as BN does.

    Checks that the converted layers are in the graph and in train mode:
    every trainable parameter gets a finite, non-zero gradient, and every
    SyncBN layer's running statistics move off their initial values (mean
    0, variance 1) to those a plain BN copy reaches on the same batch,
    counting one batch.
    """
    cfg = tiny_cfg(TINY_TSM_CONFIG)
    plain = MODELS.build(cfg.model).to(DEVICE)
    model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(copy.deepcopy(plain))
    assert sync_batch_norms(model) > 10
    initial = {n: b.detach().cpu().clone() for n, b in model.named_buffers()}
    data = batch(cfg)
    with recorded_gradients(model) as grads:
        loss, updates = train_step(ddp(model), cfg, data)
    train_step(plain, cfg, data)
    assert loss == loss and loss > 0  # finite, not NaN
    assert all(torch.isfinite(u).all() for u in updates.values())
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert len(trainable) == len(updates)  # nothing frozen in this recipe
    assert sorted(grads) == sorted(trainable)
    for name, grad in grads.items():
        assert torch.isfinite(grad).all(), name
        assert grad.abs().max() > 0, name
    after = dict(model.named_buffers())
    expected = dict(plain.named_buffers())
    for name, module in model.named_modules():
        if not isinstance(module, torch.nn.SyncBatchNorm):
            continue
        assert module.num_batches_tracked.item() == 1, name
        for stat in ('running_mean', 'running_var'):
            key = f'{name}.{stat}'
            assert not torch.equal(after[key].cpu(), initial[key]), key
            torch.testing.assert_close(
                after[key], expected[key], rtol=1e-4, atol=1e-6, msg=key)
