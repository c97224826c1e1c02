"""`make bench`: how fast the book builds, how its sliders respond, how good the library is.

A benchmark, not a test: it measures and compares with goals, it never fails
on a slow number (only on a broken measurement).  Steps (``--only`` picks some):

=========  ==================================================  =============
step       what                                                goal
=========  ==================================================  =============
build      ``make book`` in a fresh ``git clone`` of HEAD:     <= 300 s,
           clean, then cached (bench/build.py)                 <= 20 s
pages      per chapter page: weight, static frames             <= 2 MB
           (bench/pages.py)
live       per chapter: execution in a fresh kernel; every     median
           live slider moved over its grid; each slider        <= 150 ms;
           cell run to its first frame (bench/live.py)         <= 1 s
browser    static sliders in Chromium: keydown to new frame    median
           (bench/browser.py)                                  <= 16 ms
library    smoothmax vs scipy.special vs torch: speed on       <= 3x SciPy;
           10**6 elements, ulp error vs mpmath                 ulp targets
           (bench/library.py)
=========  ==================================================  =============

What is measured: after the build step, the fresh clone (its ``lib/``, its
``chapters/``, its ``_build/html``); without it (``--skip-clean-build``), this
working tree, whose ``_build/html`` must exist (``make book``).

Output: tables on stdout, everything in ``_build/bench.json`` (with the
machine: CPU, cores, RAM, OS, Python, NumPy/SciPy/PyTorch, git commit, date),
and with ``--update-readme`` the README section between ``<!-- bench:start -->``
and ``<!-- bench:end -->``.  ``--quick`` is for development: no clean build,
fewer repetitions, rows, moves and presses.

    make bench                              # everything (about 10 minutes on 2 cores)
    make bench BENCH_ARGS=--update-readme   # ... and rewrite README's results
    .venv/bin/python bench/run.py --quick --only live,browser
"""

from __future__ import annotations

import argparse
import json
import math
import re
import shutil
import statistics
import sys
import tempfile
import traceback
from pathlib import Path

import browser
import build
import library
import live
import pages
from common import (ROOT, fmt, machine_info, machine_line, markdown_table, met, summary,
                    text_table)

STEPS = ("build", "pages", "live", "browser", "library")
README = ROOT / "README.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--skip-clean-build", action="store_true",
                    help="no fresh clone: measure this working tree and its _build/html")
    ap.add_argument("--quick", action="store_true",
                    help="development run: --skip-clean-build, fewer repetitions and samples")
    ap.add_argument("--only", type=lambda s: s.split(","), default=list(STEPS),
                    help=f"comma-separated steps among {','.join(STEPS)}")
    ap.add_argument("--update-readme", action="store_true",
                    help="rewrite README's 'Benchmark results' section")
    ap.add_argument("--keep-clone", action="store_true", help="keep the fresh clone and build logs")
    ap.add_argument("--output", type=Path, default=ROOT / "_build" / "bench.json")
    args = ap.parse_args(argv)
    if unknown := set(args.only) - set(STEPS):
        ap.error(f"unknown step(s) {sorted(unknown)}; choose among {STEPS}")
    if args.quick or args.skip_clean_build:
        args.only = [s for s in args.only if s != "build"]
    return args


def _step(results: dict, name: str, fn, *a, **kw):
    """Run one measurement; a failure is recorded and reported, the others still run."""
    print(f"== {name}", flush=True)
    try:
        return fn(*a, **kw)
    except Exception as e:  # noqa: BLE001 - a broken step must not hide the others
        traceback.print_exc()
        results.setdefault("errors", {})[name] = f"{type(e).__name__}: {e}"
        return None


# -- measuring --------------------------------------------------------------------
def measure(args) -> dict:
    quick = args.quick
    results = {"machine": machine_info(), "settings": {"quick": quick, "steps": args.only}}
    tree, workdir = ROOT, None
    try:
        if "build" in args.only:
            workdir = Path(tempfile.mkdtemp(prefix="smx-bench-"))
            results["build"] = _step(results, "build", build.clean_build, workdir)
            if results["build"] and results["build"]["ok"]:
                tree = Path(results["build"]["clone_dir"])
            elif results["build"]:  # make failed: measure the working tree instead
                results.setdefault("errors", {})["build"] = (
                    "`make book` failed in a fresh clone of HEAD: "
                    + " / ".join((results["build"] or {}).get("clean", {}).get("error", [])))
        results["tree"] = str(tree)
        html_dir = tree / "_build" / "html"
        notebooks = sorted((tree / "chapters").glob("[0-9][0-9]_*.ipynb"))
        chapters = {nb.stem: {} for nb in notebooks}
        if {"pages", "browser"} & set(args.only) and not (html_dir / "index.html").is_file():
            results.setdefault("errors", {})["pages"] = f"no {html_dir}: run `make book` first"
        elif "pages" in args.only:
            print("== pages", flush=True)
            for name in chapters:
                chapters[name]["page"] = pages.page_stats(html_dir, f"chapters/{name}.html")
        if "live" in args.only:
            for nb in notebooks:
                r = _step(results, f"live {nb.name}", live.run_notebook, nb, tree,
                          max_moves=4 if quick else None)
                if r:
                    chapters[nb.stem]["live"] = r
        if "browser" in args.only and (html_dir / "index.html").is_file():
            r = _step(results, "browser", browser.static_latency, html_dir,
                      [f"chapters/{n}.html" for n in chapters], presses=3 if quick else 8)
            if r:
                results["chromium"] = r[0]
                for page, inputs in r[1].items():
                    chapters[Path(page).stem]["static"] = inputs
        results["chapters"] = chapters
        if "library" in args.only:
            results["library"] = {
                "speed_by_allocator": _step(results, "library speed", library.speed_in_fresh_processes,
                                            tree, reps=3 if quick else 9),
                "accuracy": _step(results, "library accuracy", library.accuracy, tree,
                                  n_rows=64 if quick else 256),
            }
    finally:
        if workdir is not None and args.keep_clone:
            print(f"kept {workdir}")
        elif workdir is not None and "build" in results.get("errors", {}):
            shutil.rmtree(workdir / "smooth-max", ignore_errors=True)
            print(f"build logs kept in {workdir}")
        elif workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
    return results


# -- summarising --------------------------------------------------------------------
def _live_times(ch: dict) -> list[list[float]]:
    return [s["times_ms"] for s in ch.get("live", {}).get("sliders", [])]


def _static_times(ch: dict) -> list[list[float]]:
    return [[m["frame"] for m in i["moves"]] for i in ch.get("static", [])]


def _latency_goal(name: str, per_slider: list[list[float]], goal_ms: float) -> list:
    """One goal row: median over all moves, worst per-slider median, max; met on the latter."""
    per_slider = [t for t in per_slider if t]
    if not per_slider:
        return [name, "not measured", f"median ≤ {goal_ms:g} ms per slider", met(None)]
    allt = [x for t in per_slider for x in t]
    worst = max(statistics.median(t) for t in per_slider)
    return [name, f"median {statistics.median(allt):.1f} ms (worst slider {worst:.1f}, "
                  f"max {max(allt):.1f}; {len(allt)} moves)",
            f"median ≤ {goal_ms:g} ms per slider", met(worst <= goal_ms)]


def goal_rows(r: dict) -> list[list[str]]:
    rows = []
    b = r.get("build")
    if b and not b["ok"]:
        c = b["clean"]
        rows.append(["Clean build (fresh clone, `make book`)",
                     f"FAILED after {c['wall_s']:.0f} s: " + "; ".join(c.get("error", [])),
                     f"≤ {build.CLEAN_GOAL_S:g} s", met(False)])
    elif b:
        c = b["clean"]
        rows.append(["Clean build (fresh clone, `make book`)",
                     f"{c['wall_s']:.0f} s (venv + pip {fmt(c['setup_s'], '.0f')} s, book "
                     f"{fmt(c['book_s'], '.0f')} s incl. notebooks {c['execution_s']:.0f} s)",
                     f"≤ {build.CLEAN_GOAL_S:g} s", met(c["met"])])
        rows.append(["Cached rebuild (`make book` again)", f"{b['cached']['wall_s']:.1f} s",
                     f"≤ {build.CACHED_GOAL_S:g} s", met(b["cached"]["met"])])
    else:
        rows.append(["Clean build / cached rebuild", "not measured", "≤ 300 s / ≤ 20 s", met(None)])
    chapters = r.get("chapters", {})
    weights = {n: c["page"]["page_bytes"] for n, c in chapters.items() if "page" in c}
    if weights:
        heavy = max(weights, key=weights.get)
        rows.append(["Heaviest chapter page (HTML + its images)",
                     f"{weights[heavy] / 2**20:.2f} MB ({heavy})", "≤ 2 MB",
                     met(weights[heavy] <= pages.PAGE_GOAL_BYTES)])
    rows.append(_latency_goal("Live slider redraw in a kernel (`plot` + PNG)",
                              [t for c in chapters.values() for t in _live_times(c)],
                              live.LIVE_GOAL_MS))
    cells = [t for c in chapters.values() for t in c.get("live", {}).get("slider_cells_ms", [])]
    rows.append(["Slider cell in a kernel, run to its first frame",
                 f"worst {max(cells):.0f} ms (median {statistics.median(cells):.0f}; {len(cells)} cells)"
                 if cells else "not measured",
                 f"≤ {live.CELL_GOAL_MS:g} ms per cell",
                 met(max(cells) <= live.CELL_GOAL_MS if cells else None)])
    rows.append(_latency_goal("Static slider, keydown to new frame (Chromium)",
                              [t for c in chapters.values() for t in _static_times(c)],
                              browser.STATIC_GOAL_MS))
    lib = r.get("library") or {}
    by_alloc = lib.get("speed_by_allocator") or {}
    for s in _by_function(by_alloc.get(library.GOAL_ALLOCATOR)):
        rows.append([f"`{s[0]['function']}` speed vs SciPy",
                     "; ".join(f"σ={x['sigma']:g} {_shape(x['shape'])}: {x['ratio_scipy']:.2f}×" for x in s),
                     f"≤ {library.SPEED_GOAL_RATIO:g}×", met(all(x["met"] for x in s))])
    for func, a in ((lib.get("accuracy") or {}).get("functions") or {}).items():
        m = a["max_ulp"]
        worse = "".join(
            f"; worse in {c}: {a['worst_by_class']['smoothmax'][c]['ulp']:.3g} vs SciPy "
            f"{a['worst_by_class']['scipy'][c]['ulp']:.3g}" for c in a["classes_worse_than_scipy"])
        rows.append([f"`{func}` max error vs mpmath (hard rows)",
                     f"{m['smoothmax']:.3g} ulp (SciPy {m['scipy']:.3g}"
                     + (f", PyTorch {m['torch']:.3g}" if "torch" in m else "") + f"){worse}",
                     (f"≤ {a['goal_ulp']:g} ulp" if a.get("goal_ulp") is not None else "≤ SciPy's worst"),
                     met(a["met"])])
    return rows


def _shape(shape) -> str:
    return "×".join("10⁶" if n == 10**6 else str(n) for n in shape)


def _by_function(speed) -> list[list[dict]]:
    groups: dict[str, list[dict]] = {}
    for x in speed or []:
        groups.setdefault(x["function"], []).append(x)
    return list(groups.values())


CHAPTER_HEADERS = ["chapter", "exec s", "page MB", "sliders", "frames",
                   "live ms (median/max)", "static ms (median/max)"]


def chapter_rows(r: dict) -> list[list[str]]:
    rows = []
    for name, c in r.get("chapters", {}).items():
        p = c.get("page", {})
        exec_s = c.get("live", {}).get("execution_s")
        if exec_s is None:  # no kernel run: what the clean build's execution took
            exec_s = (r.get("build") or {}).get("notebook_execution_s", {}).get(name)
        lv = summary([x for t in _live_times(c) for x in t])
        st = summary([x for t in _static_times(c) for x in t])
        rows.append([name, fmt(exec_s),
                     fmt(p["page_bytes"] / 2**20, ".2f") if p else "–",
                     str(p.get("sliders", "–")), str(p.get("frames", "–")),
                     f"{fmt(lv['median'], '.0f')} / {fmt(lv['max'], '.0f')}",
                     f"{fmt(st['median'], '.1f')} / {fmt(st['max'], '.1f')}"])
    return rows


def library_rows(r: dict) -> list[list[str]]:
    rows = []
    for alloc, speed in ((r.get("library") or {}).get("speed_by_allocator") or {}).items():
        for x in speed:
            t = x["min_s"]
            rows.append([alloc, x["function"], f"{x['sigma']:g}", _shape(x["shape"]), f"{1e3 * t['smoothmax']:.1f}",
                         f"{1e3 * t['scipy']:.1f}", fmt(1e3 * t["torch"] if "torch" in t else None),
                         f"{x['ratio_scipy']:.2f}", fmt(x["ratio_torch"], ".2f"), met(x["met"])])
    return rows


def report(r: dict) -> str:
    out = [f"Machine: {machine_line(r['machine'], r['tree'] == str(ROOT))}",
           f"Measured: {r['tree']}" + (f"; Chromium {r['chromium']}" if r.get("chromium") else ""),
           "", text_table(["measurement", "value", "goal", "met"], goal_rows(r)),
           "", text_table(CHAPTER_HEADERS, chapter_rows(r))]
    if lib := library_rows(r):
        out += ["", "Library speed (min over repetitions, ms; ratios of smoothmax to the others; "
                "the goal rows use the steady heap)",
                text_table(["allocator", "function", "σ", "shape", "smoothmax", "scipy", "torch", "×scipy", "×torch",
                            "met"], lib)]
    for name, err in (r.get("errors") or {}).items():
        out.append(f"\nERROR in {name}: {err}")
    return "\n".join(out)


# -- writing ------------------------------------------------------------------------
def _jsonable(x):
    """Non-finite floats as strings ("inf"), so the file is strict JSON."""
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    return x


def readme_section(r: dict) -> str:
    m = r["machine"]
    notes = []
    if not r.get("build"):
        notes.append("the clean build was not measured")
    elif not r["build"]["ok"]:
        notes.append("the clean build failed, so the other rows measure the working tree")
    if r["settings"]["quick"]:
        notes.append("`--quick` run: fewer samples")
    note = f" ({'; '.join(notes)})" if notes else ""
    return "\n".join([
        START, "## Benchmark results", "",
        f"Measured {m['date'][:10]} on {machine_line(m, r['tree'] == str(ROOT))}{note}. Regenerate with "
        "`make bench BENCH_ARGS=--update-readme`; every number is in `_build/bench.json`, "
        "how each is measured in `bench/README.md`. Library speed: fresh processes, a heap that keeps "
        "its pages (no page faults on either side), logits drawn from N(0, σ²).", "",
        markdown_table(["measurement", "value", "goal", "met"], goal_rows(r)), "",
        markdown_table(CHAPTER_HEADERS, chapter_rows(r)), END])


def update_readme(r: dict) -> None:
    text = README.read_text(encoding="utf-8")
    section = readme_section(r)
    if START in text and END in text:
        text = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: section, text,
                      flags=re.S)
    elif "\n## Layout" in text:
        text = text.replace("\n## Layout", f"\n{section}\n\n## Layout", 1)
    else:
        text = text.rstrip("\n") + f"\n\n{section}\n"
    README.write_text(text, encoding="utf-8")


def main(argv=None) -> int:
    args = parse_args(argv)
    results = measure(args)
    print("\n" + report(results))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(_jsonable(results), indent=1, ensure_ascii=False) + "\n")
    print(f"\nwrote {args.output}")
    if args.update_readme:
        update_readme(results)
        print(f"updated the 'Benchmark results' section of {README}")
    return 1 if results.get("errors") else 0


if __name__ == "__main__":
    sys.exit(main())
