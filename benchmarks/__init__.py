"""Lab scripts beside the package (OURS): not installed with it.

Run from the repository root, e.g. ``python -m benchmarks.int8_accuracy``;
each writes a JSON record of every run under the folder it is told
(``benchmarks/records/`` holds the ones the docs quote).
"""
