"""Exports a recognizer to ONNX, with a dynamic clip axis.

Runs ``img_mmaction.deploy.onnx``,
whose docstring gives the options.
"""
from img_mmaction.deploy.onnx import main

if __name__ == '__main__':
    main()
