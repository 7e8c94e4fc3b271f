"""Measurements: FLOPs, speed, the shift's implementations, data pipelines,
the exit-abort diagnostic, the prepared GPU check with the wheels it
carries, and (ours, docs/online.md) the online model's accuracy against
frames seen and the per-frame cost of streaming. Each module is also a
command (``python -m``, or the scripts under ``tools/``)."""
