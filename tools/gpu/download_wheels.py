"""Downloads the wheels the GPU check installs on the device (wheels/).

Runs ``img_mmaction.analysis.device_wheels``, whose docstring gives the
options.
"""
from img_mmaction.analysis.device_wheels import main

if __name__ == '__main__':
    main()
