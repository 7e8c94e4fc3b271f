"""One training step or one test batch of a documented command, on the CPU.

A ``one-step`` block of the docs names commands that need GPUs or a real
dataset (``mim train ... --launcher pytorch --gpus 8`` on SthV1). Each is run
here as the same command, on one CPU process, with these changes only:

* the launcher options (``--launcher``, ``--gpus``, ``--gpus-per-node``,
  ``--partition``, ...; torchrun itself) are dropped: one process, no
  launcher;
* every data loader of the recipe reads a generated dataset of the recipe's
  own kind (mp4 videos for a ``VideoDataset``, JPEG folders in the recipe's
  ``filename_tmpl`` for a ``RawframeDataset``): one video to train on, one to
  validate and test on, batch 1, no worker processes;
* training runs one epoch of that one video: one step;
* a ``mim test`` whose ``--checkpoint`` does not exist gets one: the
  recipe's model, as built, saved there.

Everything else, the recipe's model at full size included, is as written.
"""
from __future__ import annotations
import subprocess
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import torch
from mmengine.config import Config

#: Options of mim / MMAction2's scripts that launch several processes.
LAUNCH_OPTIONS = ('--launcher', '--gpus', '--gpus-per-node', '--cpus-per-task',
                  '--partition', '--srun-args', '--port')
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


class TinyData:
    """Generated datasets of two short videos, made once each.

    Args:
        root: Folder to write into.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._made: Dict[str, Tuple[Path, Path]] = {}

    def _lists(self, ann: Path) -> Path:
        """Writes ``one.txt``: the first line of ``ann``."""
        one = ann.with_name('one.txt')
        one.write_text(ann.read_text().splitlines()[0] + '\n')
        return one

    def videos(self) -> Tuple[Path, Path]:
        """(videos folder, one-video list) for a ``VideoDataset``."""
        if 'videos' not in self._made:
            from img_mmaction.testing import make_video_dataset
            folder, ann = make_video_dataset(self.root / 'videos', 2)
            self._made['videos'] = (folder, self._lists(ann))
        return self._made['videos']

    def rawframes(self, template: str) -> Tuple[Path, Path]:
        """(frames folder, one-video list) for a ``RawframeDataset``
        whose frames are named by ``template`` from 1."""
        if template not in self._made:
            from img_mmaction.testing import make_rawframe_dataset
            root = self.root / f'rawframes{len(self._made)}'
            folder, ann = make_rawframe_dataset(
                root, 2, filename_tmpl=template)
            self._made[template] = (folder, self._lists(ann))
        return self._made[template]


def _dataset(loader: dict) -> dict:
    dataset = loader['dataset']
    while 'ann_file' not in dataset and 'dataset' in dataset:
        dataset = dataset['dataset']
    return dataset


def data_options(cfg: Config, data: TinyData) -> List[str]:
    """``--cfg-options`` that point every loader of ``cfg`` at tiny data."""
    options = ['train_cfg.max_epochs=1']
    for loader in LOADERS:
        if not cfg.get(loader):
            continue
        dataset = _dataset(cfg[loader])
        prefix = f'{loader}.dataset'
        if 'ann_file' not in cfg[loader]['dataset']:
            prefix += '.dataset'
        if 'Rawframe' in str(dataset['type']):
            start = dataset.get('start_index', 1)
            if start != 1:
                raise ValueError(f'{loader}: start_index={start}; the tiny '
                                 'frames are numbered from 1')
            # RawframeDataset's default template
            template = dataset.get('filename_tmpl', 'img_{:05}.jpg')
            folder, ann = data.rawframes(template)
            options.append(f'{prefix}.data_prefix.img={folder}')
        else:
            folder, ann = data.videos()
            options.append(f'{prefix}.data_prefix.video={folder}')
        options += [
            f'{prefix}.ann_file={ann}', f'{loader}.batch_size=1',
            f'{loader}.num_workers=0', f'{loader}.persistent_workers=False'
        ]
    return options


def _without_launch(args: List[str]) -> List[str]:
    kept: List[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        name = arg.split('=', 1)[0]
        if name in LAUNCH_OPTIONS:
            skip = '=' not in arg
            continue
        kept.append(arg)
    return kept


def _option(args: List[str], name: str) -> Optional[str]:
    for index, arg in enumerate(args):
        if arg == name and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith(name + '='):
            return arg.split('=', 1)[1]
    return None


def _config(name: str, cwd: Path) -> Config:
    from img_mmaction.utils import resolve_config
    path = cwd / name if (cwd / name).is_file() else resolve_config(name)
    return Config.fromfile(str(path))


def _stand_in_checkpoint(cfg: Config, path: Path) -> None:
    """The recipe's model, as built, saved where a test expects weights."""
    from mmaction.registry import MODELS
    from mmengine.registry import DefaultScope
    model_cfg = cfg.model.copy()
    model_cfg.backbone.pretrained = None
    with DefaultScope.overwrite_default_scope('mmaction'):
        model = MODELS.build(model_cfg)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({'state_dict': model.state_dict()}, path)


def as_one_step(words: List[str], cwd: Path,
                data: TinyData) -> Tuple[List[str], str]:
    """The one-process, tiny-data form of a documented command.

    Args:
        words: The command, split.
        cwd: Where it runs.
        data: The tiny datasets.

    Returns:
        (command, what it is), e.g. ``'mim train (one step)'``.

    Raises:
        ValueError: Not a ``mim train|test`` or ``torchrun ... train.py``
            command.
    """
    if words[:1] == ['mim'] and words[1] in ('train', 'test'):
        verb, package, config, rest = words[1], words[2], words[3], words[4:]
        rest = _without_launch(rest)
        cfg = _config(config, cwd)
        if verb == 'test':
            checkpoint = _option(rest, '--checkpoint')
            if checkpoint and not (cwd / checkpoint).exists():
                _stand_in_checkpoint(cfg, cwd / checkpoint)
        command = ['mim', verb, package, config, *rest, '--cfg-options']
        return command + data_options(cfg, data), f'mim {verb} (one step)'
    if words[:1] == ['torchrun']:
        script = next(i for i, w in enumerate(words) if w.endswith('.py'))
        config, rest = words[script + 1], _without_launch(words[script + 2:])
        cfg = _config(config, cwd)
        command = ['python', words[script], config, *rest, '--cfg-options']
        return command + data_options(cfg, data), 'train.py (one step)'
    raise ValueError(f'one-step: {" ".join(words)} is not a mim train/test or '
                     'torchrun command')


def run_one_step(words: List[str], cwd: Path, env: Dict[str, str],
                 data: TinyData) -> str:
    """Runs :func:`as_one_step` of ``words``; returns the output.

    Raises:
        AssertionError: The command failed; the message has its output.
    """
    command, what = as_one_step(words, cwd, data)
    result = subprocess.run(
        command,
        cwd=cwd,
        env=dict(env, PYTHONWARNINGS='ignore'),
        capture_output=True,
        text=True,
        timeout=900)
    output = result.stdout + result.stderr
    assert result.returncode == 0, (f'{what}: {" ".join(command)}\n'
                                    f'{output[-4000:]}')
    return output


__all__ = ['TinyData', 'as_one_step', 'data_options', 'run_one_step']
