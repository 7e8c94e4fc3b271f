"""Per-epoch reseeding, so that a resumed run replays the same randomness."""
from __future__ import annotations

from mmaction.registry import HOOKS
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.runner import set_random_seed


@HOOKS.register_module()
class EpochSeedHook(Hook):
    """Reseeds Python, numpy and torch from (seed, epoch, rank) each epoch.

    mmengine seeds the random generators once, when the runner starts, and
    does not store their state in checkpoints. A run resumed after being
    killed therefore draws different augmentations (frame offsets, crops,
    colour jitter) than the uninterrupted run would have. Reseeding at every
    epoch start makes each epoch's randomness a function of the seed, the
    epoch and the rank only, so ``--resume`` reaches the same weights.

    Args:
        seed: Base seed; defaults to the runner's ``randomness.seed``.
    """

    priority = 'VERY_HIGH'

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed

    def before_train_epoch(self, runner) -> None:
        base = self.seed if self.seed is not None else runner.seed
        set_random_seed(
            base + 1000 * runner.epoch + get_rank(), deterministic=False)
