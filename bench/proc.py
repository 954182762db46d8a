"""Peak memory of a command and every process it starts (Linux /proc), sampled while it runs."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any


def _parents() -> dict[int, int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return parents


def tree(root: int) -> set[int]:
    """``root`` and its descendants."""
    parents = _parents()
    found, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        children = [child for child, parent in parents.items() if parent == pid and child not in found]
        found.update(children)
        frontier += children
    return found


def memory(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process in bytes; PSS shares each page among the processes that map it, so
    forked workers' copy-on-write pages are counted once over the tree."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0, 0
    fields = {line.split(":")[0]: int(line.split()[1]) for line in text.splitlines()[1:] if ":" in line}
    return fields.get("Rss", 0) * 1024, fields.get("Pss", 0) * 1024


@dataclass
class Sampled:
    seconds: float
    returncode: int
    rss: int  # peak of the RSS summed over the tree
    pss: int  # peak of the PSS summed over the tree
    main_rss: int  # peak RSS of the command's own process


#: Waits between the first samples (then ``every``): at 0.1 s and 0.3 s a short command is still running.
_EARLY = (0.1, 0.2)


def run(
    command: list[str], *, stdout: IO[Any] | int | None = None, every: float = 0.5, **options: Any
) -> Sampled:
    """Run ``command``, sampling its process tree every ``every`` seconds (reading a large process's
    smaps_rollup walks its page tables and slows it: every 0.1 s cost a 100k export a quarter of its time)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=stdout, stderr=subprocess.PIPE, **options)
    rss = pss = main = samples = 0
    while process.poll() is None:
        figures = {pid: memory(pid) for pid in tree(process.pid)}
        rss = max(rss, sum(r for r, _ in figures.values()))
        pss = max(pss, sum(p for _, p in figures.values()))
        main = max(main, figures.get(process.pid, (0, 0))[0])
        # not a sleep: the end is seen when it comes, not at the next sample (up to 0.5 s late); two
        # early samples catch short commands without sampling often while they work (each sample
        # reads every process's stat and the tree's page tables, on the same cores)
        wait = _EARLY[samples] if samples < len(_EARLY) else every
        samples += 1
        try:
            process.wait(timeout=min(wait, every))
        except subprocess.TimeoutExpired:
            continue
    seconds = time.perf_counter() - start
    if process.returncode and process.stderr:
        import sys

        sys.stderr.write(process.stderr.read().decode(errors="replace")[-2000:])
    return Sampled(seconds, process.returncode, rss, pss, main)
