"""Measurements: FLOPs, speed, the shift's implementations, data pipelines,
and the exit-abort diagnostic. Each module is also a command (``python -m``,
or the scripts under ``tools/``)."""
