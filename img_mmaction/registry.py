"""The ``img_mmaction`` scope: ``img_mmaction::`` config paths resolve.

IMG's components are registered in MMAction2's own registries (``from
mmaction.registry import MODELS``), so recipes name them by type under the
``mmaction`` scope. A config inherited as ``img_mmaction::_base_/...`` gets
the scope ``img_mmaction`` on every dict with a ``type``; mmengine then
imports this module and looks for registries of that scope. They are
children of MMAction2's, so every MMAction2 and IMG type resolves through
them, by the parent.

mmengine resolves ``package::path`` only for packages in its table
``MODULE2PACKAGE``; importing this module adds ``img_mmaction`` to it, so the
table must hold it before a config naming ``img_mmaction::`` is parsed:
``mim train img_mmaction CONFIG`` (whose ``tools/train.py`` imports the
plugin first) and the plugin's own Python entry points do that. The
packaged configs are found under ``img_mmaction/.mim/configs``.
"""
from mmaction import registry as _mmaction
from mmengine.config import utils as _config_utils
from mmengine.registry import Registry

SCOPE = 'img_mmaction'
_config_utils.MODULE2PACKAGE.setdefault(SCOPE, SCOPE)


def _child(parent: Registry) -> Registry:
    return Registry(parent.name, parent=parent, scope=SCOPE)


RUNNERS = _child(_mmaction.RUNNERS)
RUNNER_CONSTRUCTORS = _child(_mmaction.RUNNER_CONSTRUCTORS)
LOOPS = _child(_mmaction.LOOPS)
HOOKS = _child(_mmaction.HOOKS)
DATASETS = _child(_mmaction.DATASETS)
DATA_SAMPLERS = _child(_mmaction.DATA_SAMPLERS)
TRANSFORMS = _child(_mmaction.TRANSFORMS)
MODELS = _child(_mmaction.MODELS)
MODEL_WRAPPERS = _child(_mmaction.MODEL_WRAPPERS)
WEIGHT_INITIALIZERS = _child(_mmaction.WEIGHT_INITIALIZERS)
OPTIMIZERS = _child(_mmaction.OPTIMIZERS)
OPTIM_WRAPPERS = _child(_mmaction.OPTIM_WRAPPERS)
OPTIM_WRAPPER_CONSTRUCTORS = _child(_mmaction.OPTIM_WRAPPER_CONSTRUCTORS)
PARAM_SCHEDULERS = _child(_mmaction.PARAM_SCHEDULERS)
METRICS = _child(_mmaction.METRICS)
EVALUATOR = _child(_mmaction.EVALUATOR)
TASK_UTILS = _child(_mmaction.TASK_UTILS)
VISUALIZERS = _child(_mmaction.VISUALIZERS)
VISBACKENDS = _child(_mmaction.VISBACKENDS)
LOG_PROCESSORS = _child(_mmaction.LOG_PROCESSORS)
INFERENCERS = _child(_mmaction.INFERENCERS)
FUNCTION = _child(_mmaction.FUNCTION)
TOKENIZER = _child(_mmaction.TOKENIZER)
