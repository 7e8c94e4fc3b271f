"""Runs a documented lab command in-process and checks its record."""
import json
from pathlib import Path
from typing import Callable, Dict, List, Optional

from tests.docs.blocks import module_args


def run_writing_one_record(main: Callable[[List[str]], dict],
                           command: str,
                           module: str,
                           out: Path,
                           env: Optional[Dict[str, str]] = None) -> dict:
    """``main`` with the arguments of ``command`` (``$OUT`` is ``out``).

    Args:
        main: The script's ``main``, which returns the record it wrote.
        command: A documented ``python -m MODULE ...`` line.
        module: The script's module name.
        out: The records folder the command writes to.
        env: The values of the command's other ``$NAME`` s.

    Returns:
        The record.

    Raises:
        AssertionError: The run did not add exactly one file to ``out``, or
            that file does not hold the returned record.
    """
    before = set(out.glob('*.json'))
    record = main(module_args(command, module, dict(env or {}, OUT=str(out))))
    written = set(out.glob('*.json')) - before
    assert len(written) == 1, sorted(written)
    assert json.loads(written.pop().read_text()) == record
    return record
