"""Notebook execution time and live slider redraw, in a real Jupyter kernel.

Each chapter notebook runs top to bottom in a fresh ``python3`` kernel started
by nbclient (from a scratch copy of ``chapters/``), timed from the first to
the last cell (kernel start-up excluded).  The kernel runs without
``SMOOTHMAX_STATIC_FRAMES`` (as a reader's does), so displaying a slider draws
its first frame only.  Then, in the same kernel, one more cell
(``_KERNEL_CODE``) finds every ``smoothmax.widgets.Slider`` the chapter made
(garbage-collector scan, ordered by creation), builds its ipywidgets view
(``Slider.widget()``, as displaying it in JupyterLab does) and moves it: a
reflected (snake) walk over its grid with the midpoint between neighbouring
grid values inserted (an off-grid value, as a drag gives; on a selection
slider the option nearest to it), so each move
changes exactly one control's value.  A move is timed around that
assignment, which runs what a reader's drag runs in the kernel: the observer
calls ``plot`` for the new value, renders the PNG at ``live_dpi`` and sends
it over the widget comm.  Nothing is cached.  (Transport to the browser and
drawing there are not included.)

The kernel imports ``smoothmax`` from ``<tree>/lib`` (PYTHONPATH), so a
fresh clone is measured with its own library.  Goal: median <= 150 ms.

Each cell whose output is a live slider (an ipywidgets view) is also timed on
its own, from execute request to reply: what a reader waits for before the
slider appears (the plotting function's definition, the first frame, the
widget).  Goal: <= 1 s per cell.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

LIVE_GOAL_MS = 150.0
CELL_GOAL_MS = 1000.0  # a slider cell, run to its first frame and widget
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"

_KERNEL_CODE = r"""
def _smx_bench(max_moves):
    import gc, json, numbers, time
    import smoothmax
    from smoothmax.widgets import Slider

    def with_midpoints(values):  # grid values and, for numbers, the midpoints between
        if not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values):
            return list(values)
        ints = all(isinstance(v, numbers.Integral) for v in values)
        out = [values[0]]
        for a, b in zip(values, values[1:]):
            mid = (a + b) // 2 if ints else (a + b) / 2
            out += ([mid] if mid not in (a, b) else []) + [b]
        return out

    def snake(axes):  # every point once; neighbours differ in one coordinate
        if not axes:
            return [()]
        rest = snake(axes[1:])
        return [(v,) + r for i, v in enumerate(axes[0])
                for r in (rest if i % 2 == 0 else rest[::-1])]

    found = [o for o in gc.get_objects() if isinstance(o, Slider)]
    found.sort(key=lambda s: int(s.uid.rsplit("-", 1)[1]))
    out = []
    for s in found:
        s.widget()
        controls, image = s.controls, s.image
        redraws = []
        image.observe(lambda change: redraws.append(1), names="value")
        axes = [with_midpoints(sorted(p._values) if all(
                    isinstance(v, numbers.Real) for v in p._values) else list(p._values))
                for p in s.params]
        for k, c in enumerate(controls):   # a selection slider stops at its options only
            options = [v for _, v in getattr(c, "options", ())]
            if options and all(isinstance(v, numbers.Real) for v in options):
                snapped = [min(options, key=lambda o: abs(o - v)) for v in axes[k]]
                axes[k] = [v for i, v in enumerate(snapped) if i == 0 or v != snapped[i - 1]]
        path = snake(axes)
        if max_moves is not None and len(path) > max_moves + 1:
            step = len(path) / (max_moves + 1)  # quick mode: a spread-out sample of moves
            path = [path[int(k * step)] for k in range(max_moves + 1)]
        def go(point):
            for c, v in zip(controls, point):
                if c.value != v:
                    c.value = v
        go(path[0])
        redraws.clear()
        times = []
        for point in path[1:]:
            t0 = time.perf_counter()
            go(point)
            times.append(1e3 * (time.perf_counter() - t0))
        out.append({"uid": s.uid, "params": [p.name for p in s.params], "frames": s.n_frames,
                    "live_dpi": s.live_dpi, "moves": len(times), "redraws": len(redraws),
                    "times_ms": times})
    print(json.dumps({"smoothmax": smoothmax.__file__, "sliders": out}))

_smx_bench(__MAX_MOVES__)
"""


def run_notebook(nb_path: Path, tree: Path, max_moves: int | None = None) -> dict:
    """Execute one chapter in a fresh kernel, then time its sliders' live updates."""
    import nbformat
    from nbclient import NotebookClient

    with tempfile.TemporaryDirectory(prefix="smx-bench-nb-") as tmp:
        work = Path(tmp) / "chapters"
        shutil.copytree(nb_path.parent, work)
        nb = nbformat.read(work / nb_path.name, as_version=4)
        client = NotebookClient(nb, timeout=600, kernel_name="python3",
                                resources={"metadata": {"path": str(work)}})
        env = {k: v for k, v in os.environ.items() if k != "SMOOTHMAX_STATIC_FRAMES"}
        env = dict(env, MPLBACKEND="Agg", IPYTHONDIR=str(tree / "_ext" / "ipython"),
                   PYTHONPATH=os.pathsep.join(filter(None, [str(tree / "lib"),
                                                            os.environ.get("PYTHONPATH")])))
        bench_cell = nbformat.v4.new_code_cell(
            _KERNEL_CODE.replace("__MAX_MOVES__", repr(max_moves)))
        with client.setup_kernel(env=env):
            slider_cells_ms = []  # cells that display a live slider: run to first frame
            t0 = time.perf_counter()
            for i, cell in enumerate(nb.cells):
                t_cell = time.perf_counter()
                client.execute_cell(cell, i)
                if any(WIDGET_MIME in o.get("data", {}) for o in cell.get("outputs", [])):
                    slider_cells_ms.append(1e3 * (time.perf_counter() - t_cell))
            exec_s = time.perf_counter() - t0
            nb.cells.append(bench_cell)
            client.execute_cell(bench_cell, len(nb.cells) - 1)
    text = "".join(o.get("text", "") for o in bench_cell.outputs if o.get("name") == "stdout")
    result = json.loads(text.strip().splitlines()[-1])
    for s in result["sliders"]:
        if s["redraws"] != s["moves"]:  # e.g. two grid values with identical frames
            print(f"  warning: {nb_path.name} {s['uid']}: {s['moves']} moves but "
                  f"{s['redraws']} image changes")
    return {"execution_s": exec_s, "slider_cells_ms": slider_cells_ms, **result}
