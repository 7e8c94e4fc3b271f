"""testing.devices: the CUDA tests' device and a one-process group."""
import os

import pytest
import torch
import torch.distributed as dist

from img_mmaction.testing import devices


def test_dry_run_reads_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(devices.DRY_RUN_ENV, raising=False)
    assert not devices.dry_run()
    assert devices.cuda_tests_can_run() == torch.cuda.is_available()
    monkeypatch.setenv(devices.DRY_RUN_ENV, '1')
    assert devices.dry_run() and devices.cuda_tests_can_run()
    assert devices.cuda_test_device() == torch.device('cpu')
    monkeypatch.setenv(devices.DRY_RUN_ENV, 'yes')
    with pytest.raises(
            ValueError, match="IMG_CUDA_DRY_RUN must be 0 or 1, "
            "got 'yes'"):
        devices.dry_run()


def test_single_process_group_steps_ddp_and_restores_the_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('MASTER_PORT', '1')
    monkeypatch.delenv('RANK', raising=False)
    model = torch.nn.Linear(3, 2)
    with devices.single_process_group('gloo'):
        assert dist.get_world_size() == 1 and dist.get_rank() == 0
        assert os.environ['MASTER_PORT'] != '1'
        ddp = torch.nn.parallel.DistributedDataParallel(model)
        ddp(torch.ones(4, 3)).sum().backward()
        # World size 1: the all-reduced gradient is the local one.
        torch.testing.assert_close(model.weight.grad, torch.full((2, 3), 4.))
        with pytest.raises(RuntimeError, match='already initialised'):
            with devices.single_process_group('gloo'):
                pass
    assert not dist.is_initialized()
    assert os.environ['MASTER_PORT'] == '1' and 'RANK' not in os.environ
