"""The fenced blocks of the project's pages and the markers that say how each
is tested.

Every fenced block of README.md, projects_readme.md and docs/ (notes
included) has a marker on the line before its opening fence::

    <!-- test: KIND[; OPTION]... -->

KIND says what the harness (``tests/docs/test_doc_blocks.py``) does:

==============  ==========================================================
``run``         runs the block's commands with bash, as written, in the
                page's workspace (after the declared replacements)
``python``      runs the block as a Python script there
``recipe F``    writes the block (a config) to file ``F`` there, for the
                commands after it
``one-step``    commands that need GPUs or a real dataset: each ``mim
                train`` / ``mim test`` / ``torchrun`` line builds its recipe
                and runs one training step or one test batch on the CPU on
                generated data (:mod:`tests.docs.one_step`)
``venv``        install commands, run in a fresh venv by the test the
                marker names (``tests/e2e/test_install.py``)
``by T``        commands that the test file ``T`` runs (e.g. two node ranks
                at once), reading them from the page with the replacements
                declared here
``output``      shows output or a file; nothing to run
``suite``       this test suite itself (``make test``), which CI runs
==============  ==========================================================

OPTIONs: ``replace "A" with "B"`` (literal; as many as needed) and
``cwd repo`` (run in the clone instead of the workspace). Replacements may
use the harness's variables, exported to every command: ``$WORK`` (the
page's workspace), ``$REPO`` (the clone), ``$VENV`` (this venv), ``$VIDEO``
(a real mp4), ``$TORCH_VERSION``, ``$PYTHON_VERSION`` (this interpreter's,
e.g. ``3.12``), ``$TINY_TSM_CONFIG`` (the tiny TSM recipe
of :mod:`img_mmaction.testing`, whose data the workspace holds) and, where a
test runs the block, what that test sets and its docstring names (``$WHEEL``,
``$PORT``, ``$OUT`` for its output folder, ...).

A test that runs ``by`` blocks runs their commands with :func:`run_bash`
(as the harness runs a ``run`` block), or, as its docstring then says, calls
``X.main`` in-process with the arguments of a ``python -m X ARGS`` command
(:func:`module_args`).
"""
from __future__ import annotations
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Tuple

REPO = Path(__file__).resolve().parents[2]
KINDS = ('run', 'python', 'recipe', 'one-step', 'venv', 'by', 'output',
         'suite')
MARKER = re.compile(r'^<!-- test: (.*) -->$')
REPLACE = re.compile(r'^replace "(.*)" with "(.*)"$')


def pages() -> List[Path]:
    """Every page whose blocks are tested."""
    return [
        REPO / 'README.md', REPO / 'projects_readme.md', *sorted(
            (REPO / 'docs').rglob('*.md'))
    ]


@dataclass
class Block:
    """A fenced block with its marker.

    Attributes:
        page: The page.
        line: Line of the opening fence (1-based).
        language: The fence's info string (``bash``, ``python``, ...).
        text: The block's content.
        kind: The marker's KIND, or None when unmarked.
        argument: The KIND's argument (the file of ``recipe``, the test of
            ``venv``), or ''.
        replacements: (old, new) pairs, in order.
        in_repo: Whether it runs in the clone (``cwd repo``).
    """

    page: Path
    line: int
    language: str
    text: str
    kind: str = None
    argument: str = ''
    replacements: Tuple[Tuple[str, str], ...] = ()
    in_repo: bool = False

    @property
    def where(self) -> str:
        """``page:line``, for messages."""
        return f'{self.page.relative_to(REPO)}:{self.line}'

    def command_text(self) -> str:
        """The text with the replacements applied, in order.

        Raises:
            ValueError: A replacement's old text is not in the block.
        """
        text = self.text
        for old, new in self.replacements:
            if old not in text:
                raise ValueError(f'{self.where}: replace "{old}": not in the '
                                 'block')
            text = text.replace(old, new)
        return text

    def commands(self) -> List[str]:
        """The command lines (continuations joined, comments dropped)."""
        lines = self.command_text().replace('\\\n', ' ').splitlines()
        return [
            line.strip() for line in lines
            if line.strip() and not line.strip().startswith('#')
        ]


def _parse_marker(block: Block, marker: str) -> None:
    parts = [part.strip() for part in marker.split(';')]
    head = parts[0].split(None, 1)
    block.kind = head[0]
    block.argument = head[1] if len(head) > 1 else ''
    if block.kind not in KINDS:
        raise ValueError(f'{block.where}: unknown test kind {block.kind!r}; '
                         f'one of {KINDS}')
    replacements = []
    for option in parts[1:]:
        match = REPLACE.match(option)
        if match:
            replacements.append(match.groups())
        elif option == 'cwd repo':
            block.in_repo = True
        else:
            raise ValueError(f'{block.where}: unknown option {option!r}')
    block.replacements = tuple(replacements)


def read_blocks(page: Path) -> List[Block]:
    """The fenced blocks of ``page``, each with its marker, in order.

    Raises:
        ValueError: A marker names an unknown kind or option.
    """
    lines = page.read_text().splitlines()
    blocks: List[Block] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.lstrip().startswith('```'):  # list items indent theirs
            end = index + 1
            while lines[end].strip() != '```':
                end += 1
            block = Block(page, index + 1,
                          line.strip()[3:].strip(),
                          '\n'.join(lines[index + 1:end]) + '\n')
            match = MARKER.match(lines[index - 1].strip()) if index else None
            if match:
                _parse_marker(block, match.group(1))
            blocks.append(block)
            index = end + 1
        else:
            index += 1
    return blocks


def all_blocks() -> List[Block]:
    """The blocks of every page."""
    return [block for page in pages() for block in read_blocks(page)]


def split(command: str) -> List[str]:
    """A command line as its words."""
    return shlex.split(command)


def expand(command: str, env: Dict[str, str]) -> str:
    """``$NAME`` replaced by ``env[NAME]`` (as bash would)."""
    return re.sub(r'\$([A-Z_][A-Z0-9_]*)', lambda m: env[m.group(1)], command)


def blocks_run_by(test: str) -> List[Block]:
    """The blocks of every page that the test file ``test`` runs."""
    return [
        block for block in all_blocks()
        if block.kind == 'by' and block.argument == test
    ]


def commands_run_by(test: str, count: int = 1) -> List[str]:
    """The command lines of the one block that the test file ``test``
    runs, the marker's replacements applied.

    Args:
        test: The test file, as its markers name it.
        count: How many command lines the block must have.

    Returns:
        The block's ``count`` command lines.

    Raises:
        AssertionError: Not exactly one block runs by ``test`` (their
            places named), or its block has another number of commands.
    """
    blocks = blocks_run_by(test)
    assert len(blocks) == 1, [b.where for b in blocks]
    commands = blocks[0].commands()
    assert len(commands) == count, commands
    return commands


def bash_environment(**variables: str) -> Dict[str, str]:
    """The environment the harness gives a block, from this process's.

    Args:
        **variables: The ``$NAME`` s that a marker's replacements use.

    Returns:
        This process's environment with this venv's programs first on
        ``PATH``, warnings ignored, no ``PYTHONPATH``, and ``variables``.
    """
    env = dict(os.environ)
    env.update(
        PATH=f'{Path(sys.executable).parent}{os.pathsep}{env.get("PATH", "")}',
        PYTHONWARNINGS='ignore',
        **variables)
    env.pop('PYTHONPATH', None)
    return env


def run_bash(command: str,
             cwd: Path,
             env: Dict[str, str],
             timeout: float = 900) -> subprocess.CompletedProcess:
    """Runs ``command`` with ``bash -e -o pipefail``, as the harness does.

    Args:
        command: A command line, or several, of a block.
        cwd: Where it runs.
        env: Its environment (:func:`bash_environment`).
        timeout: Seconds it may take. Defaults to 900.

    Returns:
        The finished process; stdout and stderr as text.
    """
    return subprocess.run(['bash', '-e', '-o', 'pipefail', '-c', command],
                          cwd=cwd,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=timeout)


def module_args(command: str, module: str, env: Dict[str, str]) -> List[str]:
    """The ``ARGS`` of a ``python -m MODULE ARGS`` command line.

    For calling ``MODULE.main(ARGS)`` in-process: the words bash would pass
    (``$NAME`` s expanded from ``env``, a trailing comment dropped).

    Args:
        command: One command line of a block.
        module: The module it must run.
        env: The values of its ``$NAME`` s.

    Returns:
        The arguments after the module's name.

    Raises:
        ValueError: ``command`` is not ``python -m MODULE ...``.
    """
    words = shlex.split(expand(command, env), comments=True)
    if words[:3] != ['python', '-m', module]:
        raise ValueError(f'not a python -m {module} command: {command}')
    return words[3:]
