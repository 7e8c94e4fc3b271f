"""The library room below the entry points and the deployment code.

* :func:`register_all_modules` (:mod:`.setup_env`), which mmengine calls
  for the ``img_mmaction`` scope;
* the packaged recipes (:mod:`.paths`);
* a recipe's test pipeline on frames in memory, and reading frames from a
  video, a frame folder or a camera (:mod:`.frames`);
* strict checkpoint loading (:mod:`.checkpoint`) and label maps
  (:mod:`.labels`);
* the machine and versions a measurement ran on (:mod:`.environment`).
"""
from .checkpoint import (CheckpointMismatchError, format_mismatches,
                         load_checkpoint_strictly, state_dict_mismatches)
from .errors import InferenceInputError
from .labels import LabelMapError, load_label_map
from .paths import config_path, config_root, resolve_config
from .setup_env import register_all_modules

__all__ = [
    'CheckpointMismatchError', 'InferenceInputError', 'LabelMapError',
    'config_path', 'config_root', 'format_mismatches',
    'load_checkpoint_strictly', 'load_label_map', 'register_all_modules',
    'resolve_config', 'state_dict_mismatches'
]
