"""README.md and docs/*.md link to each other by relative paths: every link must reach a file that exists,
and a `#anchor` a heading of that file, so that moving a section cannot leave a dead link behind."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"\[(?:[^\]\n]|`[^`\n]*`)*\]\(([^)\s]+)\)")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # https:, mailto:, ...


def prose(text: str) -> str:
    """The text outside code, where a `[x](y)` is a link."""
    return FENCE.sub("", text)


def links(text: str) -> list[str]:
    text = prose(text)
    in_code = [span.span() for span in INLINE_CODE.finditer(text)]
    return [match.group(1) for match in LINK.finditer(text)
            if not EXTERNAL.match(match.group(1)) and not any(a <= match.start() < b for a, b in in_code)]


def anchors(text: str) -> set[str]:
    """GitHub's heading ids: lower case, punctuation dropped, spaces to hyphens."""
    found = set()
    for heading in re.findall(r"^#{1,6} +(.+?) *#*$", prose(text), re.MULTILINE):
        words = INLINE_CODE.sub(lambda code: code.group(0).strip("`"), heading).lower()
        found.add(re.sub(r"[^\w\- ]", "", words).replace(" ", "-"))
    return found


def test_the_docs_are_there():
    names = {page.name for page in PAGES}
    assert {"README.md", "install.md", "commands.md", "deploy.md", "architecture.md", "benchmarks.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(ROOT).as_posix())
def test_every_relative_link_reaches_a_file_and_its_heading(page):
    dead = []
    for target in links(page.read_text()):
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists():
            dead.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked.read_text()):
            dead.append(f"{target}: no heading #{anchor} in {linked.relative_to(ROOT)}")
    assert dead == []


def test_the_checker_finds_links_outside_code_and_github_anchors():
    text = ("[there](there.md#the-llm-backend-a-server) [`code` text](missing.md) [web](https://example.com)\n"
            "`[in code](nowhere.md)`\n```\n[in a block](nowhere.md)\n```\n")
    assert links(text) == ["there.md#the-llm-backend-a-server", "missing.md"]
    assert anchors("# The `llm` backend: a server\n\n## 5. Health, metrics, logs\n") == {
        "the-llm-backend-a-server", "5-health-metrics-logs"}
