"""Top-k labels for a video or a frame folder, strictly.

Runs ``img_mmaction.demo.infer``,
whose docstring gives the options.
"""
from img_mmaction.demo.infer import main

if __name__ == '__main__':
    raise SystemExit(main())
