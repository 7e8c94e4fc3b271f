"""Clips/s of the recipes' data pipelines.

Runs ``img_mmaction.analysis.data_pipeline``,
whose docstring gives the options.
"""
from img_mmaction.analysis.data_pipeline import main

if __name__ == '__main__':
    main()
