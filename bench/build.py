"""Clean build from a fresh clone, then a cached rebuild.

``git clone`` of HEAD (the committed state; local changes are not in it) into
a scratch directory, then ``make book`` there twice, timed from outside:

1. the clean build: venv creation, ``pip install -r requirements.txt`` (with
   pip's usual cache and wheel sources, as a reader would have them),
   executing every notebook, rendering the HTML;
2. the cached rebuild: nothing changed, so jupyter-cache and Sphinx skip all.

The clean build is split into *setup* (until make echoes the
``jupyter-book build`` line) and *book* (the rest); the book part's notebook
execution time comes from the jupyter-cache records, which store each
notebook's ``execution_seconds``.  Output goes to ``build-1.log`` and
``build-2.log`` next to the clone; a failed build is reported with its first
warning/error lines (``-W``: a warning fails the build) and measured no further.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

from common import ROOT, git

CLEAN_GOAL_S = 300.0
CACHED_GOAL_S = 20.0


def _env() -> dict:
    """The environment of a reader's shell: no venv of ours, no outer make."""
    env = dict(os.environ)
    for k in ("VIRTUAL_ENV", "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "PYTHONPATH",
              "IPYTHONDIR", "PYTHONHOME"):
        env.pop(k, None)
    venv = str(ROOT / ".venv")
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if not p.startswith(venv))
    return env


def _make_book(clone: Path, log: Path) -> dict:
    """Run ``make book`` in `clone`: wall time, time until jupyter-book starts, exit code."""
    t0 = time.perf_counter()
    t_book = None
    with open(log, "w") as out, subprocess.Popen(
            ["make", "book"], cwd=clone, env=_env(), stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, bufsize=1) as proc:
        for line in proc.stdout:
            now = time.perf_counter() - t0
            if t_book is None and "jupyter-book build" in line:
                t_book = now
            out.write(f"[{now:7.1f}s] {line}")
        rc = proc.wait()
    wall = time.perf_counter() - t0
    result = {"wall_s": wall, "setup_s": t_book, "book_s": None if t_book is None else wall - t_book,
              "exit_code": rc, "log": str(log)}
    if rc != 0:
        result["error"] = [x.replace(f"{clone}/", "") for x in _first_errors(log)]
    return result


def _first_errors(log: Path) -> list[str]:
    """Why a build failed: its first warning/error line and the first exception message."""
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", x).split("] ", 1)[-1].strip()
             for x in log.read_text(errors="replace").splitlines()]
    warning = [x for x in lines if re.search(r"WARNING|ERROR", x)
               and "is ignored: it is neither" not in x]  # pip's notes on absent local indexes
    cause = [x for x in lines if re.match(r"([\w.]+\.)?\w+(Error|Exception): ", x)
             and not re.match(r"[\w.]*(CellExecutionError|ExecutionError|RuntimeError)", x)]
    found = warning[:1] + cause[:1]
    return found or lines[-3:]


def _execution_seconds(clone: Path) -> dict[str, float]:
    """Per-notebook execution time recorded by jupyter-cache during the build."""
    from jupyter_cache import get_cache

    cache = get_cache(clone / "_build" / ".jupyter_cache")
    return {Path(r.uri).stem: r.data.get("execution_seconds") for r in cache.list_cache_records()}


def clean_build(workdir: Path, source: Path = ROOT) -> dict:
    """Clone HEAD of `source` into `workdir`/smooth-max and time two ``make book`` runs there."""
    clone = workdir / "smooth-max"
    t0 = time.perf_counter()
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(source), str(clone)],
                   check=True)
    clone_s = time.perf_counter() - t0
    print(f"  clone of {git('rev-parse', '--short', 'HEAD', cwd=clone)} in {clone}: {clone_s:.1f} s",
          flush=True)
    first = _make_book(clone, workdir / "build-1.log")
    print(f"  clean `make book`: {first['wall_s']:.1f} s, exit code {first['exit_code']}", flush=True)
    result = {"commit": git("rev-parse", "HEAD", cwd=clone), "clone_dir": str(clone),
              "git_clone_s": clone_s, "ok": first["exit_code"] == 0,
              "clean": {**first, "goal_s": CLEAN_GOAL_S,
                        "met": first["exit_code"] == 0 and first["wall_s"] <= CLEAN_GOAL_S}}
    if not result["ok"]:
        print("  " + "\n  ".join(first["error"]), flush=True)
        return result
    second = _make_book(clone, workdir / "build-2.log")
    print(f"  cached `make book`: {second['wall_s']:.1f} s, exit code {second['exit_code']}",
          flush=True)
    execution = _execution_seconds(clone)
    result["clean"]["execution_s"] = sum(v for v in execution.values() if v)
    result["notebook_execution_s"] = execution
    result["cached"] = {**second, "goal_s": CACHED_GOAL_S,
                        "met": second["exit_code"] == 0 and second["wall_s"] <= CACHED_GOAL_S}
    result["ok"] = second["exit_code"] == 0
    return result
