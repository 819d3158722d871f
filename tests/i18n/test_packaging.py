"""The catalogs ship in the wheel, and the installed package finds them (no build step to forget)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bot.i18n.catalogs import LOCALES_DIR

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_installed_package_reads_its_catalogs(tmp_path):
    context = tmp_path / "context"
    for name in ("bot", "summarizer"):
        shutil.copytree(ROOT / name, context / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, context / name)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(tmp_path / "dist"), str(context)], capture_output=True, text=True, timeout=240)
    assert built.returncode == 0, built.stdout + built.stderr
    [wheel] = (tmp_path / "dist").glob("briefbot-*.whl")

    catalogs = {path.relative_to(ROOT).as_posix() for path in LOCALES_DIR.rglob("*") if path.suffix in {".po", ".pot"}}
    assert len(catalogs) == 6
    with zipfile.ZipFile(wheel) as packaged:
        assert sorted(catalogs - set(packaged.namelist())) == []
        packaged.extractall(tmp_path / "site")  # a pure-Python wheel installs by unpacking

    probe = ("import sys; sys.path.insert(0, sys.argv[1]); import bot.i18n as i18n; "
             "from bot.i18n.messages import SOMETHING_WENT_WRONG as m; "
             "print(i18n.__file__); print(i18n.translator('de-DE').gettext(m))")
    ran = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "site")], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0, ran.stderr
    where, said = ran.stdout.splitlines()
    assert where.startswith(str(tmp_path / "site"))  # the installed copy, not this checkout
    assert said.startswith("Entschuldigung, bei mir ist etwas schiefgelaufen.")
