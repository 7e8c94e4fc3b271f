"""The prepared GPU check (docs/gpu.md): :mod:`.device_wheels` downloads
the wheels the device needs, ``check.sh`` installs them there and runs
:mod:`.gpu_check`."""
