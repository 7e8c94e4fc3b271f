"""Top-k labels after every frame of a video, frame folder or camera.

Runs ``img_mmaction.demo.stream`` (causal IMG, ours),
whose docstring gives the options.
"""
from img_mmaction.demo.stream import main

if __name__ == '__main__':
    raise SystemExit(main())
