"""utils.environment: one description of the machine for every record."""
import importlib.metadata
import os
import platform

import torch

from img_mmaction.utils import environment


def test_machine_line_names_processor_cores_and_os() -> None:
    line = environment.machine()
    assert f'{os.cpu_count()} CPU cores' in line
    assert platform.system() in line


def test_package_versions_or_none() -> None:
    versions = environment.package_versions(['torch', 'no-such-package'])
    assert versions == {
        'torch': importlib.metadata.version('torch'),
        'no-such-package': None
    }


def test_torch_environment_on_the_cpu() -> None:
    env = environment.torch_environment(torch.device('cpu'))
    assert env['torch'] == torch.__version__
    assert env['device'] == 'cpu' and env['gpu'] is None
    assert env['cudnn'] is None and env['cpu_count'] == os.cpu_count()


def test_allocator_names_the_variables_that_are_set(monkeypatch) -> None:
    for name in environment.ALLOCATOR_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert environment.allocator() == {}
    tunables = 'glibc.malloc.trim_threshold=4294967295'
    monkeypatch.setenv('GLIBC_TUNABLES', tunables)
    assert environment.allocator() == {'GLIBC_TUNABLES': tunables}
    assert environment.torch_environment(torch.device('cpu'))['allocator'] == {
        'GLIBC_TUNABLES': tunables
    }
