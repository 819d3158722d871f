"""Dependencies point inward: the summarizer and the domain import no chat library, no driver; and
the platform-neutral core names no chat platform, so that adding one touches only bot/adapters."""

import re
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

from bot.adapters.registry import PLATFORMS

ROOT = Path(__file__).resolve().parents[1]
CORE = ["summarizer", "bot.domain", "bot.services", "bot.sources", "bot.store"]
NEUTRAL = ["bot/services", "bot/domain", "bot/store", "bot/sources", "bot/i18n", "bot/runtime"]  # comments included
PLATFORM_NAME = re.compile(r"telegram|slack|console|tg-", re.IGNORECASE)


def test_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def platform_names_in(folders: list[str]) -> list[str]:
    found = []
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if PLATFORM_NAME.search(line):
                    found.append(f"{name}:{number}: {line.strip()}")
    return found


def test_the_neutral_core_names_no_platform():
    found = platform_names_in(NEUTRAL)
    assert not found, "a platform's name in the neutral core (it belongs in bot/adapters/<platform>/):\n" + "\n".join(found)


def test_the_check_finds_a_platform_name(tmp_path, monkeypatch):
    """The grep above can fail: a comment naming a platform is found, whatever its case."""
    (tmp_path / "bot" / "services").mkdir(parents=True)
    (tmp_path / "bot" / "services" / "x.py").write_text('"""Fine."""\n# as on Slack\n', encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert platform_names_in(["bot/services"]) == ["bot/services/x.py:2: # as on Slack"]


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("bot", "summarizer", include_external_packages=True, exclude_type_checking_imports=True)


@pytest.mark.parametrize("platform", PLATFORMS, ids=lambda platform: platform.name)
def test_the_core_imports_no_platform_library(graph, platform):
    """Each platform declares its libraries (Platform.libraries), so pyproject's contracts need no
    list of them: no module of the core reaches one, directly or through another module."""
    for package in CORE:
        for library in platform.libraries:
            assert not graph.chain_exists(importer=package, imported=library, as_packages=True), \
                f"{package} imports {library}, which only bot/adapters/{platform.name}/ may"


@pytest.mark.parametrize("platform", PLATFORMS, ids=lambda platform: platform.name)
def test_a_platform_declares_every_library_it_alone_uses(graph, platform):
    package = f"bot.adapters.{platform.name}"
    elsewhere = {module for module in graph.modules if module.startswith("bot.") and
                 not module.startswith("bot.adapters.")}
    shared = {imported.split(".")[0] for module in elsewhere for imported in graph.find_modules_directly_imported_by(module)}
    own = {imported.split(".")[0] for module in graph.find_descendants(package) | {package}
           for imported in graph.find_modules_directly_imported_by(module)}
    undeclared = own - shared - set(sys.stdlib_module_names) - {"bot"} - set(platform.libraries)
    assert not undeclared, f"{package} imports {sorted(undeclared)}: add them to its PLATFORM's libraries"
