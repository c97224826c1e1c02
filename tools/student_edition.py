"""Write the student edition of the chapters: every solution removed, outputs cleared.

    python tools/student_edition.py chapters _build/student      (what `make student` runs)

A solution is everything between a ``{solution-start}`` directive and its
``{solution-end}`` (sphinx-exercise's gated form): the prose of the solution,
its code cells, and the two directives themselves.  Markdown cells that hold a
solution boundary are cut at the boundary; code cells inside a solution are
dropped.  Everything else (exercises, the starter cells tagged
``exercise-starter`` that call ``smoothmax.check``, the chapter text) is kept
as it is, with outputs and execution counts cleared.  A note at the top says
what the edition is.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from pathlib import Path

# A gated solution boundary: ```{solution-start} label  (options ...) ``` or
# ```{solution-end} ```; any fence of three or more backticks or colons.
_START = re.compile(r"^(?P<fence>`{3,}|:{3,})\{solution-start\}[^\n]*\n(?:.*?\n)??(?P=fence)[ \t]*(?:\n|$)",
                    re.M | re.S)
_END = re.compile(r"^(?P<fence>`{3,}|:{3,})\{solution-end\}[^\n]*\n(?P=fence)[ \t]*(?:\n|$)", re.M)

NOTE = (
    "```{{note}}\n"
    "**Student edition.** This is chapter {n} of *Smooth Max* with the solutions to the exercises "
    "removed. Each exercise that has a numerical, symbolic or code answer comes with a cell that "
    "calls `smoothmax.check`: put your answer in it and run it to see whether it is right, with a "
    "hint if it is not. Run the notebook from the top.\n"
    "```\n"
)


class SolutionStructureError(ValueError):
    """A solution is opened twice, closed without being opened, or never closed."""


def _boundaries(text: str):
    """Sorted (start, end, kind) of the solution boundaries in a markdown text."""
    found = [(m.start(), m.end(), "start") for m in _START.finditer(text)]
    found += [(m.start(), m.end(), "end") for m in _END.finditer(text)]
    return sorted(found)


def strip_solutions(nb: dict, name: str = "notebook") -> tuple[dict, int]:
    """A copy of the notebook (nbformat 4 JSON) without solutions or outputs.

    Returns the new notebook and the number of solutions removed.
    """
    out = copy.deepcopy(nb)
    cells = []
    inside = False
    removed = 0
    for cell in out["cells"]:
        source = "".join(cell.get("source", []))
        if cell["cell_type"] == "markdown":
            kept, pos = [], 0
            for start, end, kind in _boundaries(source):
                if kind == "start":
                    if inside:
                        raise SolutionStructureError(f"{name}: a solution starts inside another solution")
                    kept.append(source[pos:start])
                    inside = True
                else:
                    if not inside:
                        raise SolutionStructureError(f"{name}: solution-end without solution-start")
                    inside = False
                    removed += 1
                pos = end
            if not inside:
                kept.append(source[pos:])
            text = "".join(kept).strip("\n")
            if not text.strip():
                continue
            cell["source"] = _lines(text + "\n" if cell["source"] and source.endswith("\n") else text)
        elif inside:
            continue
        if cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
            cell.get("metadata", {}).pop("execution", None)
        cells.append(cell)
    if inside:
        raise SolutionStructureError(f"{name}: a solution is never closed")
    out["cells"] = cells
    out["metadata"].pop("widgets", None)
    return out, removed


def _lines(text: str) -> list[str]:
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def student_edition(src: Path, dest: Path) -> list[tuple[Path, int]]:
    """Write the student edition of every ``NN_*.ipynb`` in `src` to `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted(src.glob("[0-9][0-9]_*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        student, removed = strip_solutions(nb, path.name)
        note = {"cell_type": "markdown", "id": "student-note", "metadata": {},
                "source": _lines(NOTE.format(n=int(path.name[:2])))}
        # after the title cell (which follows the hidden setup cell, when there is one)
        title = next((i for i, c in enumerate(student["cells"])
                      if c["cell_type"] == "markdown" and "".join(c["source"]).lstrip().startswith(("(", "#"))), 0)
        student["cells"].insert(title + 1, note)
        target = dest / path.name
        target.write_text(json.dumps(student, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append((target, removed))
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", type=Path, help="folder with the chapter notebooks")
    parser.add_argument("dest", type=Path, help="folder to write the student edition to")
    args = parser.parse_args(argv)
    try:
        written = student_edition(args.src, args.dest)
    except SolutionStructureError as exc:
        print(f"student edition: {exc}", file=sys.stderr)
        return 1
    if not written:
        print(f"student edition: no chapter notebooks in {args.src}", file=sys.stderr)
        return 1
    for target, removed in written:
        print(f"{target}: {removed} solutions removed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
