"""Running one command and measuring it: wall time, and the peak memory of its whole process tree.

A build may fork worker processes, so the peak of the first process alone says too little. While
the command runs, a thread walks its process tree in /proc every SAMPLE_SECONDS and reads, for
every process alive, VmHWM (the kernel's high-water mark of that process's resident set: a sample
taken any time after the peak still sees it) and VmRSS (the resident set now).

peak_kib is the highest sum, over one sample, of the VmHWM of every process alive then. Workers
that come and go one after another are not added up, and each process counts at its own peak, so
the figure errs high, never low, apart from growth in the last few milliseconds of a process; it
also counts the pages a forked worker still shares with its parent (copy-on-write) twice.
concurrent_kib is the highest sum of VmRSS in one sample: a lower bound of the same thing.

The kernel's ru_maxrss (os.wait4) is not used: it is the largest single process, not the sum, and
a process started from this one inherits this process's high-water mark through fork and exec, so
a command smaller than this Python would be reported at this Python's size.

A cgroup's memory peak is not used: cgroup v1 (as on this kind of machine) has no memory.peak, and
both versions charge the page cache of every file the build reads or writes to the group.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

SAMPLE_SECONDS = 0.01
PROC = Path("/proc")
METHOD = (
    f"highest Σ, over one /proc sample every {SAMPLE_SECONDS * 1000:.0f} ms, of the peak RSS "
    "(VmHWM) of every process of the command alive then"
)


@dataclass(frozen=True, slots=True)
class Measured:
    """One finished command: how long it took, its memory, and what it printed."""

    seconds: float
    cpu_seconds: float  # user + system, of the process and every child it waited for
    peak_kib: int  # highest Σ of VmHWM over the processes alive in one sample
    concurrent_kib: int  # highest Σ of VmRSS in one sample
    processes: int  # processes seen in the tree, the first one included
    returncode: int
    stdout: str
    stderr: str


@dataclass
class TreeSampler:
    """Samples the memory of a process and its descendants on a thread of its own."""

    root: int
    seen: set[int] = field(default_factory=set)
    peak: int = 0  # KiB
    concurrent: int = 0
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(target=self._loop, name="memory-sampler", daemon=True)
        self.thread.start()

    def finish(self) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join()

    def _loop(self) -> None:
        while True:
            self.sample()
            if self.stop.wait(SAMPLE_SECONDS):
                return

    def sample(self) -> None:
        peaks = resident = 0
        for pid in process_tree(self.root):
            memory = read_memory(pid)
            if memory is not None:
                self.seen.add(pid)
                peaks += memory[0]
                resident += memory[1]
        self.peak = max(self.peak, peaks)
        self.concurrent = max(self.concurrent, resident)


def process_tree(root: int) -> list[int]:
    """The process and all its living descendants, parents first."""
    tree = [root]
    for pid in tree:  # grows while it is walked: breadth first
        tree.extend(children(pid))
    return tree


def children(pid: int) -> list[int]:
    """Child processes, from each thread's `children` file (any thread may have forked)."""
    found: list[int] = []
    try:
        tasks = list((PROC / str(pid) / "task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            listed = (task / "children").read_text()
        except OSError:
            continue
        found += [int(child) for child in listed.split()]
    return found


def read_memory(pid: int) -> tuple[int, int] | None:
    """(VmHWM, VmRSS) in KiB; None once the process is gone or a zombie."""
    try:
        status = (PROC / str(pid) / "status").read_text()
    except OSError:
        return None
    fields = dict(line.split(":", 1) for line in status.splitlines() if line.startswith("Vm"))
    if "VmHWM" not in fields or "VmRSS" not in fields:
        return None
    return int(fields["VmHWM"].split()[0]), int(fields["VmRSS"].split()[0])


def can_sample() -> bool:
    """Whether this kernel lists a process's children in /proc (CONFIG_PROC_CHILDREN)."""
    return (PROC / "self" / "task" / str(os.getpid()) / "children").is_file()


def run_measured(command: list[str], cwd: Path | None = None) -> Measured:
    """Run `command` to its end with its output captured; measure its time and memory."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=err, text=True, cwd=cwd)
        sampler = TreeSampler(child.pid)
        sampler.start()
        try:
            _, status, usage = os.wait4(child.pid, 0)
        finally:
            seconds = time.perf_counter() - started
            sampler.finish()
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Measured(
            seconds=seconds,
            cpu_seconds=usage.ru_utime + usage.ru_stime,
            peak_kib=sampler.peak,
            concurrent_kib=sampler.concurrent,
            processes=len(sampler.seen),
            returncode=child.returncode,
            stdout=out.read(),
            stderr=err.read(),
        )
