"""Lists, a label map and an IMG recipe for ROOT/<class name>/<videos>.

Runs ``img_mmaction.datasets.video_folder``,
whose docstring gives the options.
"""
from img_mmaction.datasets.video_folder import main

if __name__ == '__main__':
    raise SystemExit(main())
