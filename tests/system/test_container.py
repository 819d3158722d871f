"""The image of deploy/Dockerfile, built and run for real with podman.

Registries' base images cannot be pulled here, Debian's packages can: the base is a Debian 12 minbase root
file system with python3 and python3-venv (mmdebstrap), imported into podman once and kept in its image
store, so later runs on the same machine reuse it. The image is built on it (pip reaches PyPI through the
host's network), started with no tokens, asked /readyz and /healthz, and stopped with SIGTERM.
Without podman, runc or mmdebstrap the test is skipped, except in CI (CI=true), where it fails.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BASE = "localhost/briefbot-ci-base:bookworm"
IMAGE = "localhost/briefbot:test"
BANNED = ("torch", "triton", "sentence-transformers", "transformers", "nvidia-", "cuda-")
# On these machines podman needs no default ulimits, and runc (crun fails on the cgroup layout).
CONTAINERS_CONF = "[containers]\ndefault_ulimits = []\n"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]


@pytest.fixture(scope="module")
def podman(tmp_path_factory) -> list[str]:
    missing = [name for name in ("podman", "runc", "mmdebstrap") if shutil.which(name) is None]
    if missing:
        message = f"not installed: {', '.join(missing)} (apt-get install podman runc mmdebstrap)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)  # CI installs them (.ci/run): a skip there would hide a broken image
        pytest.skip(message)
    conf = tmp_path_factory.mktemp("podman") / "containers.conf"
    conf.write_text(CONTAINERS_CONF)
    os.environ["CONTAINERS_CONF"] = str(conf)  # read by every podman command below
    command = ["podman", "--runtime", "runc"]
    if subprocess.run([*command, "image", "exists", BASE]).returncode != 0:
        rootfs = tmp_path_factory.mktemp("rootfs") / "rootfs.tar"
        run(["mmdebstrap", "--quiet", "--variant=minbase", "--include=python3,python3-venv", "bookworm",
             str(rootfs)], timeout=900)
        run([*command, "import", str(rootfs), BASE], timeout=300)
    return command


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(command: list[str], timeout: float) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{' '.join(command)}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def host_ca_bundle() -> list[str]:
    """pip inside the build trusts what the host trusts (a TLS-inspecting proxy's CA included)."""
    bundle = os.environ.get("PIP_CERT") or os.environ.get("SSL_CERT_FILE") or "/etc/ssl/certs/ca-certificates.crt"
    if not Path(bundle).is_file():
        return []
    return ["--volume", f"{bundle}:/etc/ssl/host-ca.crt:ro", "--build-arg", "PIP_CERT=/etc/ssl/host-ca.crt"]


def status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def test_the_image_builds_answers_its_health_checks_and_stops_on_sigterm(podman, capsys):
    run([*podman, "build", "--network", "host", "--file", str(ROOT / "deploy" / "Dockerfile"),
         "--ignorefile", str(ROOT / "deploy" / "Dockerfile.dockerignore"), "--build-arg", f"PYTHON_IMAGE={BASE}",
         *host_ca_bundle(), "--tag", IMAGE, str(ROOT)], timeout=1200)
    size = json.loads(run([*podman, "image", "inspect", IMAGE], timeout=60).stdout)[0]["Size"]
    names = run([*podman, "run", "--rm", IMAGE, "python", "-c",
                 "import importlib.metadata as m; print('\\n'.join(d.metadata['Name'].lower() for d in m.distributions()))"],
                timeout=120).stdout.split()
    assert "onnxruntime" in names and [name for name in names if name.startswith(BANNED)] == []

    port = free_port()
    container = run([*podman, "run", "--detach", "--init", "--network", "host", "--read-only", "--tmpfs", "/tmp",
                     "--env", f"HTTP_PORT={port}", "--env", "HTTP_HOST=127.0.0.1", IMAGE], timeout=120).stdout.strip()
    try:
        deadline = time.monotonic() + 180
        while status(f"http://127.0.0.1:{port}/readyz") != 200:
            state = json.loads(run([*podman, "inspect", container], timeout=60).stdout)[0]["State"]
            assert state["Running"], run([*podman, "logs", container], timeout=60).stderr[-3000:]
            assert time.monotonic() < deadline, "not ready after 180 s"
            time.sleep(1)
        assert status(f"http://127.0.0.1:{port}/healthz") == 200
        start = time.monotonic()
        run([*podman, "kill", "--signal", "TERM", container], timeout=30)
        exit_code = int(run([*podman, "wait", container], timeout=30).stdout.strip())
        stopped_after = time.monotonic() - start
        logs = run([*podman, "logs", container], timeout=60).stderr
    finally:
        subprocess.run([*podman, "rm", "--force", "--volumes", container], capture_output=True, timeout=60)
    assert exit_code == 0, logs[-3000:]
    assert stopped_after < 10
    assert all(json.loads(line) for line in logs.splitlines() if line.strip())  # LOG_JSON=1: one object a line
    with capsys.disabled():
        print(f"\nimage {IMAGE}: {size / 1e6:.0f} MB, ready and healthy, stopped by SIGTERM in {stopped_after:.1f} s")
    assert size < 1e9  # PyTorch alone would be several GB
