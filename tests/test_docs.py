"""The README, projects_readme.md and docs/: links resolve; pages are
reference (short, and about the project, not its history)."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [
    ROOT / 'README.md', ROOT / 'projects_readme.md', *sorted(
        (ROOT / 'docs').rglob('*.md'))
]
#: The longest a top-level docs page may be; run series and investigations
#: go to docs/notes/ or the benchmarks' records.
MAX_PAGE_LINES = 300
#: Words of a lab book, not of a reference page.
HISTORY = re.compile(
    r'\bissue \d+|\b(this|next|previous|earlier|a later) '
    r'session', re.IGNORECASE)
LINK = re.compile(r'\]\(([^)\s]+)\)')


def _anchors(page: Path) -> set:
    """GitHub's heading anchors of a Markdown page."""
    anchors = set()
    for line in page.read_text().splitlines():
        if line.startswith('#'):
            title = line.lstrip('#').strip().lower()
            title = re.sub(r'[^\w\- ]', '', title)
            anchors.add(title.replace(' ', '-'))
    return anchors


@pytest.mark.parametrize('page', PAGES, ids=lambda p: p.relative_to(ROOT))
def test_relative_links_resolve(page: Path) -> None:
    broken = []
    for target in LINK.findall(page.read_text()):
        if re.match(r'[a-z]+:', target) or target.startswith('#'):
            if target.startswith('#') and \
                    target[1:] not in _anchors(page):
                broken.append(target)
            continue
        path, _, anchor = target.partition('#')
        resolved = (page.parent / path).resolve()
        if not resolved.exists():
            broken.append(target)
        elif anchor and resolved.suffix == '.md' and \
                anchor not in _anchors(resolved):
            broken.append(target)
    assert not broken, f'{page.relative_to(ROOT)}: broken links {broken}'


@pytest.mark.parametrize(
    'page',
    sorted((ROOT / 'docs').glob('*.md')),
    ids=lambda p: p.relative_to(ROOT))
def test_top_level_pages_are_at_most_300_lines(page: Path) -> None:
    lines = len(page.read_text().splitlines())
    assert lines <= MAX_PAGE_LINES, f'{page.name}: {lines} lines'


@pytest.mark.parametrize('page', PAGES, ids=lambda p: p.relative_to(ROOT))
def test_no_page_speaks_of_issues_or_sessions(page: Path) -> None:
    found = [
        f'{page.name}:{number}: {line.strip()}'
        for number, line in enumerate(page.read_text().splitlines(), 1)
        if HISTORY.search(line)
    ]
    assert not found, found
