"""A delivery worker's name is held by one live process at a time."""

from __future__ import annotations

import subprocess
import sys

from bot.worker_lock import hold_worker_name


def test_a_second_holder_gets_a_name_of_its_own_and_the_name_is_free_again_after(tmp_path):
    name, first = hold_worker_name("delivery-0-of-1-host-telegram", tmp_path)
    assert name == "delivery-0-of-1-host-telegram"
    other = subprocess.run(
        [sys.executable, "-c", "import sys; from pathlib import Path; from bot.worker_lock import hold_worker_name; "
                               "print(hold_worker_name('delivery-0-of-1-host-telegram', Path(sys.argv[1]))[0])",
         str(tmp_path)], capture_output=True, text=True, check=True)
    assert other.stdout.strip().startswith("delivery-0-of-1-host-telegram-")  # held here: a name of its own
    assert "another process on this machine delivers as" in other.stderr
    first.close()
    again, handle = hold_worker_name("delivery-0-of-1-host-telegram", tmp_path)
    assert again == "delivery-0-of-1-host-telegram"  # a restart takes its old name back
    handle.close()
