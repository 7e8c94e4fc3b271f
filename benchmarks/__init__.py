"""The lab beside the plugin: benchmarks, studies, the evidence harness.

Nothing here is installed: ``pip install`` gives :mod:`img_mmaction`, the
plugin, and this folder stays in the repository. Each module is one command,
run from the repository root, e.g. ``python -m benchmarks.speed``. Each
writes its runs to its own record (``--out`` / ``--json``), kept under
``benchmarks/records/``. The lab imports the plugin, never the reverse.
"""
