"""Cold start of the command line: `python -m bot summarize page.html` beside `python -c pass`.

    python bench/coldstart.py [--page ../shared/pages/html/p000.html] [--runs 5]

Each run is a new process on the same interpreter, so the figures are imports, model loading and one
brief. The int8 model file is made before the timed runs (the first start only builds it once). Prints
the median and the best of each, and how much the command costs over an empty interpreter.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PAGE = ROOT.parent / "shared" / "pages" / "html" / "p000.html"


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--page", type=Path, default=DEFAULT_PAGE)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        f"python -m bot summarize {args.page.name}": [sys.executable, "-m", "bot", "summarize", str(args.page)],
    }
    timed(commands[f"python -m bot summarize {args.page.name}"])  # builds the model file if it is missing
    results = {label: [timed(command) for _ in range(args.runs)] for label, command in commands.items()}
    print(f"{args.runs} runs each, {sys.executable} (Python {sys.version.split()[0]})")
    print(f"{'command':44} {'median s':>9} {'best s':>8}")
    for label, seconds in results.items():
        print(f"{label:44} {statistics.median(seconds):9.2f} {min(seconds):8.2f}")
    empty, command = (statistics.median(seconds) for seconds in results.values())
    print(f"the command over an empty interpreter: +{command - empty:.2f} s ({command / empty:.0f}x)")


if __name__ == "__main__":
    main()
