"""The README and docs/: every relative link and anchor resolves."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / 'README.md', *sorted((ROOT / 'docs').rglob('*.md'))]
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
