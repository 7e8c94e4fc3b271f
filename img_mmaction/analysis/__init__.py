"""Measurements: FLOPs, speed, the shift's implementations, data pipelines,
the exit-abort diagnostic, and the prepared GPU check with the wheels it
carries. Each module is also a command (``python -m``, or the scripts under
``tools/``)."""
