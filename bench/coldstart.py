"""Cold start of the command line: `python -m bot summarize page.html` beside `python -c pass`.

    python -m bench.coldstart [--page ../shared/pages/html/p000.html] [--runs 5] [--checkout DIR]

Each run is a new process on the same interpreter, so the figures are imports, model loading and one
brief. The int8 model file is made before the timed runs (the first start only builds it once). Prints
the median and best wall time and the median CPU time of each, and the command's cost over an empty
interpreter.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PAGE = ROOT.parent / "shared" / "pages" / "html" / "p000.html"


def timed(command: list[str], cwd: Path = ROOT) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one run: on a busy machine the CPU time is the
    steadier figure, the wall time waits for a core."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--page", type=Path, default=DEFAULT_PAGE)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--checkout", type=Path, default=ROOT,
                        help="the checkout whose bot runs (another version, for a before/after); default this one")
    args = parser.parse_args()
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        f"python -m bot summarize {args.page.name}": [sys.executable, "-m", "bot", "summarize", str(args.page)],
    }
    timed(commands[f"python -m bot summarize {args.page.name}"], args.checkout)  # builds the model file if missing
    results = {label: [timed(command, args.checkout) for _ in range(args.runs)] for label, command in commands.items()}
    print(f"{args.runs} runs each, {sys.executable} (Python {sys.version.split()[0]}), bot from {args.checkout}")
    print(f"{'command':44} {'wall s, median':>15} {'best':>6} {'CPU s, median':>14}")
    for label, runs in results.items():
        walls, cpus = zip(*runs)
        print(f"{label:44} {statistics.median(walls):15.2f} {min(walls):6.2f} {statistics.median(cpus):14.2f}")
    empty, command = (statistics.median(wall for wall, _ in runs) for runs in results.values())
    print(f"the command over an empty interpreter: +{command - empty:.2f} s wall ({command / empty:.0f}x)")


if __name__ == "__main__":
    main()
