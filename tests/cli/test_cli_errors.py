"""A wrong setting or a taken port stops `python -m bot run` with a plain message, not a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_bot(folder: Path, command: str = "run", **settings: str) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(folder), "DATA_DIR": str(folder / "data"),
           "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", **settings}
    return subprocess.run([sys.executable, "-m", "bot", command], cwd=folder, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=120)


def test_a_wrong_setting_names_the_setting_and_exits_2(tmp_path):
    result = run_bot(tmp_path, ALERTS_PER_HOUR="many", TELEGRAM_MODE="carrier-pigeon")
    assert result.returncode == 2
    message = " ".join(result.stderr.split())
    assert "Invalid setting" in message and "ALERTS_PER_HOUR" in message and "TELEGRAM_MODE" in message
    assert ".env.example" in message and "Traceback" not in result.stderr


def test_the_removed_delivery_shard_setting_says_what_replaced_it(tmp_path):
    for command in ("run", "worker"):
        result = run_bot(tmp_path, command, DELIVERY_SHARD="1/3")
        assert result.returncode == 2, result.stderr
        message = " ".join(result.stderr.split())
        assert "DELIVERY_SHARD" in message and "was removed" in message and "leases" in message
        assert "python -m bot worker" in message and "Traceback" not in result.stderr


def test_a_taken_port_says_so_and_exits_2(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_bot(tmp_path, HTTP_HOST="127.0.0.1", HTTP_PORT=str(port), SUMMARIZER_BACKEND="lead")
    assert result.returncode == 2
    message = " ".join(result.stderr.split())
    assert f"cannot listen on 127.0.0.1:{port}" in message and "HTTP_PORT" in message
    assert "Traceback" not in result.stderr
