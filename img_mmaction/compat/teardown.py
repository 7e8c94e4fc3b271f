"""Fix 6: destroy the process group before the interpreter finalizes.

mmengine's Runner never calls ``torch.distributed.destroy_process_group``,
so the group is still alive when the interpreter finalizes; a gloo worker
thread that then drops a tensor asks for the GIL and the process dies with
``terminate called without an active exception`` (SIGABRT) after its work
is done (pytorch/pytorch#190489), which ``torchrun`` reports as a failed
job. An ``atexit`` handler destroys the group while the interpreter is
alive, then collects garbage, which frees the runner's DDP wrapper (it
holds the group from inside reference cycles) and so joins the group's
threads. The investigation is in docs/compat.md.
"""
from __future__ import annotations
import atexit
import gc
import inspect

import torch

UPSTREAM = 'pytorch/pytorch#190489'


def destroy_process_group_at_exit() -> None:
    """Destroys the default process group and frees what still holds it.

    Does nothing when no group is initialized. After
    ``destroy_process_group`` a group held by a DDP wrapper inside a reference
    cycle (the runner's) keeps its worker threads; ``gc.collect()`` frees the
    cycle now, while the interpreter can still serve those threads, instead of
    in the last collection of finalization, where it cannot.
    """
    distributed = torch.distributed
    if distributed.is_available() and distributed.is_initialized():
        distributed.destroy_process_group()
        gc.collect()


def needed() -> bool:
    """mmengine's Runner never destroys the process group."""
    from mmengine.runner import runner
    return 'destroy_process_group' not in inspect.getsource(runner)


def install() -> None:
    """Registers :func:`destroy_process_group_at_exit` with ``atexit``.

    It is registered at plugin import, before any launcher initializes a
    group, so it covers every launcher (pytorch, slurm, mpi). ``atexit``
    handlers run before interpreter finalization, which is the point.
    ``unregister`` first keeps exactly one registration.
    """
    atexit.unregister(destroy_process_group_at_exit)
    atexit.register(destroy_process_group_at_exit)
