"""analysis.environment: one description of the machine for every record."""
import importlib.metadata
import os
import platform

import torch

from img_mmaction.analysis import environment


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
