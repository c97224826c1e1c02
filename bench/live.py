"""Notebook execution time and live slider latency, in a real Jupyter kernel.

Each chapter notebook runs top to bottom in a fresh ``python3`` kernel started
by nbclient (from a scratch copy of ``chapters/``), timed from the first to
the last cell (kernel start-up excluded).  Then, in the same kernel, one more
cell (``_KERNEL_CODE``) finds every ``smoothmax.widgets.Slider`` the chapter
made (garbage-collector scan, ordered by creation), builds its ipywidgets view
(``Slider.widget()``, as displaying it in JupyterLab does) and moves it over
its whole grid: a reflected (snake) walk, so each move changes exactly one
``SelectionSlider.value``.  A move is timed around that assignment, which runs
what a reader's drag runs in the kernel: the observer fetches the frame and
sends the new image over the widget comm.  Displaying a slider renders every
frame of its grid for the static view and ``Slider.frame`` keeps them, so a
move is a lookup, not a new Matplotlib drawing.  (Transport to the browser and
drawing there are not included.)  What a move would cost without that cache,
``plot(**values)`` plus the PNG rendering, is timed on its own at up to three
grid points and reported as "recompute".

The kernel imports ``smoothmax`` from ``<tree>/lib`` (PYTHONPATH), so a
fresh clone is measured with its own library.  Goal: median <= 50 ms.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

LIVE_GOAL_MS = 50.0

_KERNEL_CODE = r"""
def _smx_bench(max_moves):
    import gc, json, time
    import smoothmax
    from smoothmax.widgets import Slider, render_png

    def snake(sizes):  # every grid point once; neighbours differ in one coordinate
        if not sizes:
            return [()]
        rest = snake(sizes[1:])
        return [(i,) + r for i in range(sizes[0]) for r in (rest if i % 2 == 0 else rest[::-1])]

    found = [o for o in gc.get_objects() if isinstance(o, Slider)]
    found.sort(key=lambda s: int(s.uid.rsplit("-", 1)[1]))
    out = []
    for s in found:
        s.widget()
        controls, image = s._sliders, s._image
        redraws = []
        image.observe(lambda change: redraws.append(1), names="value")
        path = snake([len(p._values) for p in s.params])
        if max_moves is not None and len(path) > max_moves + 1:
            step = len(path) / (max_moves + 1)  # quick mode: a spread-out sample of moves
            path = [path[int(k * step)] for k in range(max_moves + 1)]
        def go(idx):
            for c, p, i in zip(controls, s.params, idx):
                if c.value != p._values[i]:
                    c.value = p._values[i]
        go(path[0])
        redraws.clear()
        times = []
        for idx in path[1:]:
            t0 = time.perf_counter()
            go(idx)
            times.append(1e3 * (time.perf_counter() - t0))
        # where the time goes, at up to 3 grid points: the plot function vs PNG rendering
        plot_ms, png_ms = [], []
        for idx in path[:: max(1, len(path) // 3)][:3]:
            t0 = time.perf_counter()
            fig = s.plot(**{p.name: p._values[i] for p, i in zip(s.params, idx)})
            t1 = time.perf_counter()
            render_png(fig, dpi=s.dpi)
            plot_ms.append(1e3 * (t1 - t0))
            png_ms.append(1e3 * (time.perf_counter() - t1))
        out.append({"uid": s.uid, "params": [p.name for p in s.params], "frames": s.n_frames,
                    "moves": len(times), "redraws": len(redraws), "times_ms": times,
                    "plot_ms": plot_ms, "png_ms": png_ms})
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
        env = dict(os.environ, MPLBACKEND="Agg", IPYTHONDIR=str(tree / "_ext" / "ipython"),
                   PYTHONPATH=os.pathsep.join(filter(None, [str(tree / "lib"),
                                                            os.environ.get("PYTHONPATH")])))
        bench_cell = nbformat.v4.new_code_cell(
            _KERNEL_CODE.replace("__MAX_MOVES__", repr(max_moves)))
        with client.setup_kernel(env=env):
            t0 = time.perf_counter()
            for i, cell in enumerate(nb.cells):
                client.execute_cell(cell, i)
            exec_s = time.perf_counter() - t0
            nb.cells.append(bench_cell)
            client.execute_cell(bench_cell, len(nb.cells) - 1)
    text = "".join(o.get("text", "") for o in bench_cell.outputs if o.get("name") == "stdout")
    result = json.loads(text.strip().splitlines()[-1])
    for s in result["sliders"]:
        if s["redraws"] != s["moves"]:  # e.g. two grid values with identical frames
            print(f"  warning: {nb_path.name} {s['uid']}: {s['moves']} moves but "
                  f"{s['redraws']} image changes")
    return {"execution_s": exec_s, **result}
