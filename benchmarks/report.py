"""The build benchmark's results: one row per run, judged against its target, as a table and JSON.

Targets that name Hugo are ratios to Hugo's build of the same corpus in the same session; a row
whose yardstick is missing (no Hugo) says so instead of passing or missing.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from measure import Measured

COLD_VS_HUGO = 1.0
MEMORY_VS_HUGO = 0.5
ONE_CHANGED_VS_HUGO_COLD = 0.15
UNCHANGED_VS_HUGO_COLD = 0.1
CLI_SECONDS = 0.15
SERVICE_SECONDS = 1.0
LARGE_VS_COLD, LARGE_MIB = 10.0, 400.0
# Wall time this much over CPU time means the process waited: for a core others held, or for the
# disk (the interpreter's own files, paged out while idle). Builds read warm files on every core,
# so on an idle machine their wall time is at most their CPU time.
BUSY_WALL_OVER_CPU = 1.5

TARGETS = {
    "cold": f"≤ {COLD_VS_HUGO:.1f}× Hugo's time",
    "memory": f"≤ {MEMORY_VS_HUGO:.1f}× Hugo's peak",
    "hugo": "yardstick",
    "one": f"≤ {ONE_CHANGED_VS_HUGO_COLD:g}× Hugo's cold",
    "unchanged": f"≤ {UNCHANGED_VS_HUGO_COLD:g}× Hugo's cold, nothing rewritten",
    "cli": f"≤ {CLI_SECONDS:g} s",
    "service": f"≤ {SERVICE_SECONDS:g} s median",
    "large": f"≤ {LARGE_VS_COLD:g}× the 10,000 cold, ≤ {LARGE_MIB:g} MB",
}


@dataclass(slots=True)
class Row:
    """One line of the results table: a run, its figures, and how they compare to the target."""

    key: str  # kind, or kind/style: "cold/hugo", "one", "cli/help"
    name: str
    style: str | None = None
    seconds: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)
    peaks_kib: list[int] = field(default_factory=list)
    concurrent_kib: list[int] = field(default_factory=list)
    processes: int = 0
    notes: list[str] = field(default_factory=list)
    crashed: str | None = None
    rewritten: int | None = None  # output files rewritten over all runs, where that is checked
    over_bound: float | None = None  # the median is over this many seconds (it was not waited for)
    items: int | None = None  # a feed's item count, where one is checked
    show_time: bool = True
    ratio: float | None = None
    ratio_of: str = ""
    verdict: str = "-"

    @property
    def kind(self) -> str:
        return self.key.partition("/")[0]

    @property
    def target(self) -> str:
        return TARGETS[self.kind]

    @property
    def median(self) -> float:
        if self.over_bound is not None:
            return math.inf
        return statistics.median(self.seconds) if self.seconds else math.nan

    @property
    def median_cpu(self) -> float:
        return statistics.median(self.cpu_seconds) if self.cpu_seconds else math.nan

    @property
    def peak_mib(self) -> float:
        return max(self.peaks_kib) / 1024 if self.peaks_kib else math.nan

    @property
    def concurrent_mib(self) -> float:
        return max(self.concurrent_kib) / 1024 if self.concurrent_kib else math.nan

    def record(self, measured: Measured) -> bool:
        """Add one run; a failed one marks the row as crashed and stops its runs."""
        if measured.returncode != 0:
            said = measured.stderr.strip() or measured.stdout.strip()
            self.crashed = f"exit {measured.returncode}: {said[-500:]}"
            return False
        self.seconds.append(measured.seconds)
        self.cpu_seconds.append(measured.cpu_seconds)
        self.peaks_kib.append(measured.peak_kib)
        self.concurrent_kib.append(measured.concurrent_kib)
        self.processes = max(self.processes, measured.processes)
        return True


# -- judging ------------------------------------------------------------------------------------


def judge(rows: dict[str, Row], main_style: str) -> None:
    """Set every row's ratio and verdict; Hugo's rows and the main cold build are yardsticks."""
    judges: dict[str, Callable[[Row, dict[str, Row], str], None]] = {
        "cold": _judge_cold,
        "memory": _judge_memory,
        "one": _judge_rebuild,
        "unchanged": _judge_rebuild,
        "cli": _judge_cli,
        "service": _judge_service,
        "large": _judge_large,
    }
    for row in rows.values():
        if row.crashed:
            row.verdict = "CRASH"
        elif row.kind in judges:
            judges[row.kind](row, rows, main_style)
        note_busy_machine(row)


def note_busy_machine(row: Row) -> None:
    """Say so where the wall time says more about the machine than about the program."""
    if not row.show_time or not row.cpu_seconds or row.median_cpu <= 0:
        return
    over = row.median / row.median_cpu
    if over > BUSY_WALL_OVER_CPU:
        row.notes.append(
            f"wall time {over:.1f}× the CPU time: it waited for a core or the disk; see CPU s"
        )


def _passed(ok: bool) -> str:
    return "pass" if ok else "MISS"


def _hugo(rows: dict[str, Row], style: str) -> Row | None:
    hugo = rows.get(f"hugo/{style}")
    return hugo if hugo is not None and hugo.seconds and not hugo.crashed else None


def _against_hugo(row: Row, hugo: Row | None, value: Callable[[Row], float], limit: float) -> None:
    if hugo is None:
        row.verdict = "n/a: no Hugo"
        return
    row.ratio, row.ratio_of = value(row) / value(hugo), "Hugo"
    row.verdict = _passed(row.ratio <= limit)


def _judge_cold(row: Row, rows: dict[str, Row], _main: str) -> None:
    _against_hugo(row, _hugo(rows, row.style or ""), lambda item: item.median, COLD_VS_HUGO)


def _judge_memory(row: Row, rows: dict[str, Row], _main: str) -> None:
    hugo = _hugo(rows, row.style or "")
    _against_hugo(row, hugo, lambda item: item.peak_mib, MEMORY_VS_HUGO)


def _judge_rebuild(row: Row, rows: dict[str, Row], main: str) -> None:
    hugo = _hugo(rows, main)
    if hugo is None:
        row.verdict = "n/a: no Hugo"
        return
    limit = ONE_CHANGED_VS_HUGO_COLD if row.kind == "one" else UNCHANGED_VS_HUGO_COLD
    row.ratio, row.ratio_of = row.median / hugo.median, "Hugo cold"
    row.verdict = _passed(row.ratio <= limit and row.rewritten in (None, 0))


def _judge_cli(row: Row, _rows: dict[str, Row], _main: str) -> None:
    row.verdict = _passed(row.median <= CLI_SECONDS)


def _judge_service(row: Row, _rows: dict[str, Row], _main: str) -> None:
    row.verdict = _passed(row.median <= SERVICE_SECONDS)


def _judge_large(row: Row, rows: dict[str, Row], main: str) -> None:
    cold = rows.get(f"cold/{main}")
    if cold is None or not cold.seconds:
        row.verdict = "n/a: no 10,000 cold"
        return
    row.ratio, row.ratio_of = row.median / cold.median, "10,000 cold"
    row.verdict = _passed(row.ratio <= LARGE_VS_COLD and row.peak_mib <= LARGE_MIB)


# -- the table ----------------------------------------------------------------------------------


def _time(row: Row) -> str:
    if not row.show_time:
        return "·"
    if row.over_bound is not None:
        return f"> {row.over_bound:g}"
    median = row.median
    if math.isnan(median):
        return "-"
    return f"{median:.3f}" if median < 0.1 else f"{median:.2f}"


def _cpu(row: Row) -> str:
    return "-" if math.isnan(row.median_cpu) or not row.show_time else f"{row.median_cpu:.2f}"


def _peak(row: Row) -> str:
    return "-" if math.isnan(row.peak_mib) else f"{row.peak_mib:.0f}"


def _ratio(row: Row) -> str:
    return "" if row.ratio is None else f"{row.ratio:.2f}× {row.ratio_of}"


def print_table(rows: dict[str, Row]) -> None:
    print("\n| run | median s | CPU s | peak MB | target | ratio | verdict |")
    print("| --- | ---: | ---: | ---: | --- | --- | --- |")
    for row in rows.values():
        figures = (_time(row), _cpu(row), _peak(row))
        cells = (row.name, *figures, row.target, _ratio(row), row.verdict)
        print("| " + " | ".join(cells) + " |")
    print()
    for row in rows.values():
        for note in ([f"CRASH: {row.crashed}"] if row.crashed else []) + row.notes:
            print(f"- {row.name}: {note}")


# -- JSON ---------------------------------------------------------------------------------------


def _finite(value: float) -> float | None:
    return round(value, 4) if math.isfinite(value) else None


def row_json(row: Row) -> dict[str, object]:
    return {
        "key": row.key,
        "run": row.name,
        "style": row.style,
        "median_s": _finite(row.median) if row.show_time else None,
        "median_over_s": row.over_bound,
        "seconds": [round(value, 4) for value in row.seconds],
        "median_cpu_s": _finite(row.median_cpu) if row.show_time else None,
        "cpu_seconds": [round(value, 4) for value in row.cpu_seconds],
        "peak_mib": _finite(row.peak_mib),
        "concurrent_peak_mib": _finite(row.concurrent_mib),
        "processes": row.processes,
        "target": row.target,
        "ratio": None if row.ratio is None else round(row.ratio, 4),
        "ratio_of": row.ratio_of or None,
        "verdict": row.verdict,
        "rewritten": row.rewritten,
        "items": row.items,
        "crashed": row.crashed,
        "notes": row.notes,
    }


def write_json(path: Path, about: dict[str, object], rows: dict[str, Row]) -> None:
    document = {**about, "rows": [row_json(row) for row in rows.values()]}
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    path.write_text(text, encoding="utf-8")
