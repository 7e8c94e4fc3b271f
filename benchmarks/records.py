"""JSON records of lab runs that never overwrite one another (OURS)."""
from __future__ import annotations
import datetime
import json
import os
import platform
import shlex
import sys
from pathlib import Path
from typing import Dict, Optional, Sequence, Union


def command_line(module: str, argv: Optional[Sequence[str]]) -> str:
    """The command as a user types it, e.g. ``python -m benchmarks.x --a``.

    Args:
        module: The script's module name.
        argv: Its arguments; None: ``sys.argv[1:]``.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    return ' '.join(['python', '-m', module] + [shlex.quote(a) for a in args])


def recorded_path(path: Union[str, Path]) -> str:
    """``path`` as a record names it.

    Args:
        path: A file or folder, relative to the working folder or absolute.

    Returns:
        The path relative to the working folder (the repository root, for
        the lab's commands) when inside it, else absolute; with ``/``.
    """
    resolved = Path(path).resolve()
    try:
        return resolved.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(resolved)


def cpu_model() -> Optional[str]:
    """The processor's model name (``/proc/cpuinfo``); None elsewhere."""
    try:
        for line in Path('/proc/cpuinfo').read_text().splitlines():
            if line.startswith('model name'):
                return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return None


def run_environment() -> Dict[str, object]:
    """Date, machine, load average and versions of this run."""
    from img_mmaction.utils.environment import machine, package_versions
    return dict(
        date=datetime.datetime.now().isoformat(timespec='seconds'),
        machine=machine(),
        cpu=cpu_model(),
        python=platform.python_version(),
        versions=package_versions(('torch', 'onnx', 'onnxruntime', 'numpy',
                                   'mmaction2', 'mmengine')),
        load_average=[round(v, 2) for v in os.getloadavg()])


def write_record(out: Path, record: dict, tag: str = '') -> Path:
    """Writes ``record`` as a new JSON file under ``out``.

    The name is the record's date (``record['date']``, else now) and
    ``tag``; an existing file is never replaced: ``_2``, ``_3``, ... are
    tried until a name is free.

    Args:
        out: The folder (made if missing).
        record: JSON-ready values.
        tag: Added to the name, e.g. ``'seed0'``.

    Returns:
        The new file.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    date = str(
        record.get('date')
        or datetime.datetime.now().isoformat(timespec='seconds'))
    stem = date.replace(':', '') + (f'_{tag}' if tag else '')
    text = json.dumps(record, indent=1) + '\n'
    for attempt in range(1, 1000):
        path = out / (stem + (f'_{attempt}' if attempt > 1 else '') + '.json')
        try:
            with open(path, 'x') as handle:
                handle.write(text)
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f'{out}: 999 records named {stem}*.json')
