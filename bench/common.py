"""Shared helpers of the benchmark: the machine description, statistics, tables.

Nothing here measures anything; see ``bench/run.py`` for what is measured.
"""

from __future__ import annotations

import datetime
import importlib.util
import os
import platform
import statistics
import subprocess
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


# -- the machine ------------------------------------------------------------------
def _first(path: str, key: str) -> str | None:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip() if ":" in line else line.split("=", 1)[1]
    except OSError:
        pass
    return None


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


def machine_info() -> dict:
    """CPU, cores, RAM, OS, Python and library versions, git commit, date."""
    mem_kb = _first("/proc/meminfo", "MemTotal")
    os_name = _first("/etc/os-release", "PRETTY_NAME=")
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return {
        "cpu": _first("/proc/cpuinfo", "model name") or platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "ram_gb": round(int(mem_kb.split()[0]) / 2**20, 1) if mem_kb else None,
        "os": (os_name.strip('"') if os_name else platform.system()) + f" ({platform.release()})",
        "python": platform.python_version(),
        "numpy": _version("numpy"),
        "scipy": _version("scipy"),
        "torch": _version("torch"),
        "mpmath": _version("mpmath"),
        "git_commit": git("rev-parse", "HEAD"),
        "git_dirty": bool(dirty),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def machine_line(m: dict, working_tree: bool = True) -> str:
    """One line: the machine, the versions, the commit (and whether local changes were measured)."""
    dirty = " + local changes" if working_tree and m["git_dirty"] else ""
    return (f"{m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM, {m['os']}; Python {m['python']}, "
            f"NumPy {m['numpy']}, SciPy {m['scipy']}, PyTorch {m['torch']}; "
            f"commit {m['git_commit'][:10]}{dirty}")


# -- numbers ----------------------------------------------------------------------
def summary(values: list[float]) -> dict:
    """min / median / max / n of a list of measurements (empty list: all None)."""
    if not values:
        return {"n": 0, "min": None, "median": None, "max": None}
    return {"n": len(values), "min": min(values), "median": statistics.median(values),
            "max": max(values)}


def fmt(x, spec: str = ".1f", none: str = "–") -> str:
    return none if x is None else format(x, spec)


# -- tables -----------------------------------------------------------------------
def text_table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()
    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])


def markdown_table(headers: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(out)


def met(flag) -> str:
    return {True: "yes", False: "NO", None: "–"}[flag]


# -- reuse of the test helpers ------------------------------------------------------
def import_file(name: str, path: Path):
    """Import a file as a module under a unique name (e.g. tests/conftest.py)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def book_conftest():
    """tests/conftest.py of the book (Chromium launch arguments, static-server handler)."""
    return sys.modules.get("smx_book_conftest") or import_file("smx_book_conftest",
                                                               ROOT / "tests" / "conftest.py")
