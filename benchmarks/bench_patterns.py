"""Time every content pattern on about 1 MB of adversarial text, and a build of hostile reviews.

`python benchmarks/bench_patterns.py [--megabytes 1] [--bound 2.0]`

tests/test_patterns.py shows by counting steps that each pattern's work is linear; this is the
wall-clock side of the same claim. Each pattern runs, the way feedkit uses it, on every adversarial
shape from that test grown to about --megabytes of text; a linear pattern takes milliseconds, a
quadratic one hours. Then a real build (`feedkit build` in a fresh process) of a site holding the
inputs first reported: a body of '{{<a' * 16000, front matter 'title: x' + 20,000 spaces + 'y', a
body of '[caption' * 8000 and an alias bomb behind tags. Anything over --bound seconds fails, and
the script exits 1.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the adversarial shapes live in the test that counts steps

from tests.test_patterns import SPACES, Shape, all_cases, pattern_named  # noqa: E402

CONFIG = """\
[site]
title = "Hostile"
base_url = "https://hostile.example.org/"
"""


def alias_bomb(depth: int) -> str:
    levels = ["l0: !!seq &l0 [x, x, x, x, x, x, x, x, x]"]
    for n in range(1, depth + 1):
        levels.append(f"l{n}: !!seq &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]")
    return "\n".join(levels) + "\n"


HOSTILE_REVIEWS = {
    "hugo.md": "---\ntitle: Hugo\ndate: 2025-01-01\n---\n" + "{{<a" * 16_000,
    "spaces.md": "---\ntitle: x" + " " * 20_000 + "y\ndate: 2025-01-02\n---\nBody.\n",
    "caption.md": "---\ntitle: Caption\ndate: 2025-01-03\n---\n" + "[caption" * 8_000,
    "bomb.md": "---\ntitle: Bomb\ndate: 2025-01-04\n" + alias_bomb(8) + "---\nBody.\n",
}


def grown(shape: Shape, megabytes: float) -> str:
    prefix, unit, suffix = shape
    return prefix + unit * max(1, int(megabytes * 1_000_000) // len(unit)) + suffix


def time_pattern(pattern: re.Pattern[str], mode: str, subject: str) -> float:
    started = time.perf_counter()
    if mode == "finditer":
        for _ in pattern.finditer(subject):
            pass
    else:
        getattr(pattern, mode)(subject)
    return time.perf_counter() - started


def time_patterns(megabytes: float, bound: float) -> bool:
    """Print the slowest shape per pattern; True when all are within the bound."""
    print(f"| pattern | mode | slowest shape | seconds on {megabytes:g} MB | verdict |")
    print("| --- | --- | --- | ---: | --- |")
    passed = True
    for name, mode, shapes in all_cases():
        pattern = pattern_named(name)
        timings = {}
        for shape in [*shapes, *SPACES]:
            timings[shape] = time_pattern(pattern, mode, grown(shape, megabytes))
        slowest = max(timings, key=lambda shape: timings[shape])
        verdict = "pass" if timings[slowest] <= bound else "FAIL"
        passed = passed and verdict == "pass"
        print(f"| `{name}` | {mode} | `{slowest!r}` | {timings[slowest]:.3f} | {verdict} |")
    return passed


def time_hostile_build(bound: float) -> bool:
    """Build a site of the reported reviews with the real CLI; True when done within the bound."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "config.toml").write_text(CONFIG, encoding="utf-8")
        (root / "content").mkdir()
        for name, text in HOSTILE_REVIEWS.items():
            (root / "content" / name).write_text(text, encoding="utf-8")
        config = str(root / "config.toml")
        command = [sys.executable, "-m", "feedkit.cli", "--config", config, "build"]
        started = time.perf_counter()
        finished = subprocess.run(command, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - started
    verdict = "pass" if seconds <= bound and finished.returncode == 0 else "FAIL"
    print(f"\nBuild of the hostile reviews: {seconds:.2f} s (bound {bound:g} s), {verdict}")
    for line in (finished.stdout + finished.stderr).splitlines():
        print(f"    {line}")
    return verdict == "pass"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=1.0, help="adversarial text size")
    parser.add_argument("--bound", type=float, default=2.0, help="seconds allowed per pattern")
    args = parser.parse_args()
    patterns_pass = time_patterns(args.megabytes, args.bound)
    build_passes = time_hostile_build(args.bound * 5)
    sys.exit(0 if patterns_pass and build_passes else 1)


if __name__ == "__main__":
    main()
