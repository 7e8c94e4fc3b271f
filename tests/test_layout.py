"""The house: the package is the plugin, its imports run down the floors.

``img_mmaction/`` holds what a user imports or runs; the lab (benchmarks,
studies, the evidence harness, device tooling) lives beside it in
``benchmarks/`` and is not installed. Inside the package every import runs
down (or stays on) a floor, so a library room never leans on an entry
point.

The lab's functions are a few named steps each: none is longer than
:data:`MAX_FUNCTION_LINES`.
"""
import ast
from pathlib import Path
from typing import Dict, Iterator, Tuple

PACKAGE = Path(__file__).resolve().parents[1] / 'img_mmaction'
LAB = PACKAGE.parent / 'benchmarks'
#: The longest a function of the lab may be, from ``def`` to its last line
#: (docstring included).
MAX_FUNCTION_LINES = 60

#: Each room of the package and its floor: a module may import from its
#: own floor and the floors below.
FLOORS: Dict[str, int] = {
    'utils': 0,  # library room: frames, checkpoints, labels, paths, env
    'registry': 0,
    'models': 1,
    'compat': 2,  # fix 7 knows the adaptive shift
    'datasets': 2,
    'engine': 3,
    'deploy': 4,
    'synthetic': 5,
    'testing': 5,
    'demo': 6,  # entry points
}
#: Floors whose modules may ``import img_mmaction`` (the whole plugin, for
#: its registrations): entry points and the deployment commands.
MAY_IMPORT_THE_PLUGIN = 4


def _modules() -> Iterator[Tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob('*.py')):
        if '.mim' in path.parts:
            continue
        relative = path.relative_to(PACKAGE)
        yield relative.parts[0].removesuffix('.py'), path


def _imported_rooms(path: Path) -> Iterator[Tuple[int, str]]:
    """(line, room) for every import of another part of the plugin."""
    package_parts = path.relative_to(PACKAGE.parent).parent.parts
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_parts[:len(package_parts) - node.level + 1]
                name = '.'.join(base +
                                ((node.module, ) if node.module else ()))
            else:
                name = node.module or ''
            names = [name]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split('.')
            if parts[0] == 'img_mmaction':
                yield node.lineno, parts[1] if len(parts) > 1 else ''


def test_the_package_holds_the_plugin_rooms_only() -> None:
    rooms = {room for room, _ in _modules()} - {'__init__'}
    assert rooms == set(FLOORS), rooms ^ set(FLOORS)


def test_every_import_runs_down_the_floors() -> None:
    upward = []
    for room, path in _modules():
        floor = FLOORS.get(room, max(FLOORS.values()))
        for line, target in _imported_rooms(path):
            where = f'{path.relative_to(PACKAGE.parent)}:{line}'
            if target == '':
                if floor < MAY_IMPORT_THE_PLUGIN and room != '__init__':
                    upward.append(f'{where} imports the whole plugin')
            elif FLOORS[target] > floor and room != '__init__':
                upward.append(f'{where}: {room} (floor {floor}) imports '
                              f'{target} (floor {FLOORS[target]})')
    assert not upward, '\n'.join(upward)


def test_no_installed_module_reads_the_checkout() -> None:
    readers = [
        str(path.relative_to(PACKAGE.parent)) for _, path in _modules() if
        'parents[' in path.read_text() or '.parent.parent' in path.read_text()
    ]
    assert not readers, readers


def test_models_is_the_largest_room() -> None:
    lines: Dict[str, int] = {}
    for room, path in _modules():
        lines[room] = lines.get(room, 0) + len(path.read_text().splitlines())
    assert max(lines, key=lines.get) == 'models', lines


def _function_lengths(path: Path) -> Iterator[Tuple[str, int]]:
    """(name, lines from ``def`` to the last line) for every function."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node.name, node.end_lineno - node.lineno + 1


def test_every_lab_function_is_a_few_steps() -> None:
    long = [
        f'{path.relative_to(LAB.parent)}:{name} ({lines} lines)'
        for path in sorted(LAB.rglob('*.py'))
        for name, lines in _function_lengths(path)
        if lines > MAX_FUNCTION_LINES
    ]
    assert not long, '\n'.join(long)
