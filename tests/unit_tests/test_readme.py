"""The README stays a short door to the project, and its layout block stays true."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
PACKAGE = ROOT / "src" / "agent"
MAX_BYTES = 12 * 1024
"""The README's size limit; depth goes in docs/."""


def layout_block() -> list[str]:
    """The lines of the code block that follows the README's "Layout" line."""
    text = README.read_text()
    found = re.search(r"^Layout\b.*?\n```\n(.*?)\n```", text, re.MULTILINE | re.DOTALL)
    assert found, "the README has no layout block (a line starting 'Layout', then a code block)"
    return found.group(1).splitlines()


def listed_modules() -> list[str]:
    """The modules the layout block lists: indented lines under ``src/agent/``."""
    lines = layout_block()
    start = lines.index("src/agent/") + 1
    modules = []
    for line in lines[start:]:
        if not line.startswith("  "):
            break
        modules.append(line.split()[0])
    return modules


def package_modules() -> set[str]:
    """Every module under src/agent, relative to it (package ``__init__`` files aside)."""
    return {
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if path.name != "__init__.py"
    }


def test_the_readme_is_under_12_kb() -> None:
    size = len(README.read_bytes())
    assert size < MAX_BYTES, f"README.md is {size:,} bytes; move detail to docs/"


def test_every_module_is_in_the_layout_block() -> None:
    missing = package_modules() - set(listed_modules())
    assert not missing, f"add to the README's layout block, one line each: {sorted(missing)}"


def test_nothing_in_the_layout_block_is_missing() -> None:
    listed = listed_modules()
    assert len(listed) == len(set(listed)), "a module is listed twice"
    gone = [module for module in listed if not (PACKAGE / module).is_file()]
    assert not gone, f"listed in the README's layout block but not in src/agent: {gone}"
    others = [line.split()[0] for line in layout_block() if line and not line.startswith(" ")]
    gone = [path for path in others if not (ROOT / path).exists()]
    assert not gone, f"listed in the README's layout block but absent: {gone}"


def test_every_docs_link_resolves() -> None:
    links = re.findall(r"\]\((docs/[^)#\s]+)(?:#[^)]*)?\)", README.read_text())
    assert links, "the README links no docs/ page"
    broken = sorted({link for link in links if not (ROOT / link).is_file()})
    assert not broken, f"README links to missing files: {broken}"


def test_every_relative_link_in_docs_resolves() -> None:
    broken = []
    for page in sorted((ROOT / "docs").glob("*.md")):
        for target in re.findall(r"\]\(([^)#\s:]+)(?:#[^)]*)?\)", page.read_text()):
            if not (page.parent / target).exists():
                broken.append(f"{page.name} -> {target}")
    assert not broken, f"broken links in docs/: {broken}"
