"""Write the chapters' exercises as nbgrader source notebooks, and grade them safely.

    python tools/assignments.py source chapters COURSE      (what `make assignments` runs)
    python tools/assignments.py autograde ASSIGNMENT [--course COURSE] [--student ID ...]
    nbgrader export --exporter=assignments.ExerciseCsvExport   (per-exercise CSV, `make grades`)

One assignment per chapter, ``COURSE/source/chNN_slug/chNN_slug.ipynb``, made
of the chapter's exercises and the few chapter cells they need:

* a read-only note and the setup: the chapter's imports cell and every earlier
  chapter cell that defines a name the solutions use (found from the code, so a
  solution that starts using a new definition pulls its cell in);
* for each exercise, its text (read-only), then

  - if ``smoothmax.check`` has a check for it: an answer cell (nbgrader
    "autograded answer") holding the starter's placeholders and, between
    ``### BEGIN SOLUTION`` and ``### END SOLUTION``, the book's own solution
    code (its prose as comments) ending with the starter's variables set from
    the solution; then a read-only test cell worth ``POINTS`` points that calls
    the same ``check.<name>(...)`` the starter calls and asserts it passes.  The
    check, the book's solution and the grader are the same code.
  - otherwise: a manually graded markdown answer cell whose source is the
    book's solution prose (the model answer, removed from the release).

Exercises, setup cells and test cells are locked: ``nbgrader autograde``
restores them from the gradebook when a submission changed them.

``autograde`` runs ``nbgrader autograde`` one student at a time with a
tripwire around it (see README, "Grading with nbgrader"): before each student
it keeps the gradebook (an SQLite backup) and the other students' submitted
files in memory; if the run damaged either, it puts them back and reports the
student, whose submission is then marked as failed.  This is no sandbox:
student code runs as the grader's user.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import csv
import json
import os
import re
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
sys.path.insert(0, str(TOOLS))
from student_edition import _END, _START, _lines  # noqa: E402  (same directives as `make student`)

POINTS = 1  # per exercise, autograded or manually graded
COURSE_ID = "smooth-max"
SCHEMA_VERSION = 3

NBGRADER_CONFIG = '''\
# nbgrader configuration for the Smooth Max course, written by `make assignments`
# (tools/assignments.py) when absent; edit freely, it is not overwritten.
c = get_config()  # noqa: F821 - provided by nbgrader

c.CourseDirectory.course_id = "smooth-max"
c.CourseDirectory.root = {root!r}
# The placeholders above each solution region stay in the release; no raise.
c.ClearSolutions.code_stub = {{"python": "# YOUR CODE HERE"}}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
# Seconds per cell when autograding: a cell that runs longer is interrupted,
# gets a CellTimeoutError and the notebook goes on with the next cell.
c.Execute.timeout = 120
c.Execute.interrupt_on_timeout = True
# A submission whose graded cells were deleted gets them back (from the
# gradebook) before it runs, so deleting a failing test does not help.
c.OverwriteCells.add_missing_cells = True
'''

NOTE = (
    "**Exercises of chapter {n}, *{title}*.** Read the chapter in the book first; "
    "this notebook holds only its exercises and the setup they need.\n\n"
    "Write your answers in the cells that say `YOUR CODE HERE` (replace the placeholders "
    "such as `None` or `...`) or `YOUR ANSWER HERE`. The read-only cell under each code answer "
    "runs the book's self-check, `smoothmax.check`: run it to see *Right* or *Not yet* with a "
    "hint. The same cell grades your submission ({points} point per exercise); answers in prose are "
    "graded by hand. Do not delete or edit the read-only cells: grading restores them.\n\n"
    "Run the notebook from the top (Kernel → Restart & Run All) before you submit."
)

_PRAGMA = re.compile(r"^\s*%")


class AssignmentError(ValueError):
    """The chapter's exercises cannot be turned into an assignment."""


# -- reading the chapter -------------------------------------------------------------
def _text(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _exercise_blocks(text: str):
    """(label, markdown body) for each ```{exercise} in a markdown text."""
    pat = re.compile(r"^(?P<fence>`{3,}|:{3,})\{exercise\}[^\n]*\n(?P<body>.*?)^(?P=fence)[ \t]*$",
                     re.M | re.S)
    for m in pat.finditer(text):
        body = m.group("body")
        label = re.search(r"^:label: (\S+)", body, re.M)
        body = re.sub(r"^:[\w-]+:.*\n", "", body).strip("\n")
        yield (label.group(1) if label else None), body


def _split_markdown(text: str):
    """Pieces of a markdown cell: ("text", s), ("start", label), ("end", None)."""
    marks = [(m.start(), m.end(), "start", m.group(0)) for m in _START.finditer(text)]
    marks += [(m.start(), m.end(), "end", None) for m in _END.finditer(text)]
    pos = 0
    for start, end, kind, raw in sorted(marks):
        yield "text", text[pos:start]
        label = re.search(r"\{solution-start\}\s+(\S+)", raw).group(1) if raw else None
        yield kind, label
        pos = end
    yield "text", text[pos:]


def parse_chapter(nb: dict, name: str = "chapter"):
    """The chapter's setup cells, and its exercises in order.

    Returns ``(setup, exercises)``: `setup` is the list of code cells outside
    every solution that come before the first exercise (candidates for the
    setup); each exercise is a dict with its label, text, starter source (or
    None), solution prose and solution code cells.
    """
    setup, exercises = [], []
    inside = None  # the exercise whose solution we are in
    by_label = {}
    seen_exercise = False
    for cell in nb["cells"]:
        src = _text(cell)
        if cell["cell_type"] == "markdown":
            for kind, value in _split_markdown(src):
                if kind == "start":
                    if inside is not None:
                        raise AssignmentError(f"{name}: a solution starts inside another solution")
                    if value not in by_label:
                        raise AssignmentError(f"{name}: solution of unknown exercise {value}")
                    inside = by_label[value]
                elif kind == "end":
                    if inside is None:
                        raise AssignmentError(f"{name}: solution-end without solution-start")
                    inside = None
                elif inside is not None:
                    if value.strip():
                        inside["prose"].append(value.strip("\n"))
                else:
                    for label, body in _exercise_blocks(value):
                        if label is None:
                            raise AssignmentError(f"{name}: an exercise without a :label:")
                        ex = {"label": label, "text": body, "starter": None, "prose": [], "code": []}
                        exercises.append(ex)
                        by_label[label] = ex
                        seen_exercise = True
        elif cell["cell_type"] == "code":
            tags = cell.get("metadata", {}).get("tags", [])
            src = drop_statements(src)
            if inside is not None:
                inside["code"].append(src)
            elif "exercise-starter" in tags:
                if not exercises:
                    raise AssignmentError(f"{name}: a starter cell before any exercise")
                exercises[-1]["starter"] = src
            elif not seen_exercise:
                setup.append(src)
    if inside is not None:
        raise AssignmentError(f"{name}: a solution is never closed")
    return setup, exercises


# -- what the assignment leaves out ----------------------------------------------------
# The book's formula checker reads the chapter notebook's own text, which an
# assignment does not have next to it; its statements are a build concern.
BOOK_ONLY = {"Equations", "eqs"}


def _mentions(node, names) -> bool:
    return any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(node)) or any(
        isinstance(n, (ast.Import, ast.ImportFrom)) and any((a.asname or a.name) in names for a in n.names)
        for n in ast.walk(node))


def drop_statements(src: str, names=BOOK_ONLY) -> str:
    """`src` without the statements (at any depth) that use one of `names`;
    a block left empty gets a ``pass``.  Other lines stay as written."""
    if not any(n in src for n in names):
        return src
    tree = ast.parse("\n".join("#" + l if _PRAGMA.match(l) else l for l in src.splitlines()))
    edits = []  # (first line, last line, replacement or None), 1-based

    def body(stmts):
        dropped, kept = [], False
        for stmt in stmts:
            headers = []
            if isinstance(stmt, (ast.For, ast.AsyncFor)):
                headers = [stmt.target, stmt.iter]
            elif isinstance(stmt, (ast.If, ast.While)):
                headers = [stmt.test]
            elif isinstance(stmt, (ast.With, ast.AsyncWith)):
                headers = [i.context_expr for i in stmt.items]
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                headers = list(stmt.decorator_list)
            compound = isinstance(stmt, (ast.For, ast.AsyncFor, ast.If, ast.While, ast.With, ast.AsyncWith,
                                         ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Try))
            if (compound and any(_mentions(h, names) for h in headers)) or (not compound and _mentions(stmt, names)):
                dropped.append(stmt)
                continue
            kept = True
            if compound:
                for field in ("body", "orelse", "finalbody"):
                    sub = getattr(stmt, field, None)
                    if sub:
                        body(sub)
                for handler in getattr(stmt, "handlers", []):
                    body(handler.body)
        for i, stmt in enumerate(dropped):
            indent = " " * stmt.col_offset
            edits.append((stmt.lineno, stmt.end_lineno, indent + "pass" if (i == 0 and not kept) else None))

    body(tree.body)
    lines = src.splitlines()
    for first, last, repl in sorted(edits, reverse=True):
        lines[first - 1:last] = [repl] if repl is not None else []
    return "\n".join(lines).strip("\n")


# -- which setup cells the solutions need --------------------------------------------
_BUILTINS = set(dir(builtins))


def _targets(node) -> set:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _reads(node, local: set, out: set) -> None:
    """Add to `out` the names `node` reads that are not in `local` (function
    parameters and locals, comprehension and loop variables are local)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        a = node.args
        params = {x.arg for x in a.posonlyargs + a.args + a.kwonlyargs}
        params |= {x.arg for x in (a.vararg, a.kwarg) if x}
        for d in a.defaults + [d for d in a.kw_defaults if d is not None]:
            _reads(d, local, out)
        for dec in getattr(node, "decorator_list", []):
            _reads(dec, local, out)
        body = node.body if isinstance(node.body, list) else [node.body]
        inner = local | params | {getattr(node, "name", "")} | set().union(*(_targets(b) for b in body))
        for b in body:
            _reads(b, inner, out)
        return
    if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
        local = local | set().union(*(_targets(g.target) for g in node.generators))
    elif isinstance(node, (ast.For, ast.AsyncFor)):
        local = local | _targets(node.target)
    elif isinstance(node, (ast.With, ast.AsyncWith)):
        local = local | set().union(set(), *(_targets(i.optional_vars) for i in node.items if i.optional_vars))
    elif isinstance(node, ast.ExceptHandler) and node.name:
        local = local | {node.name}
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in local:
        out.add(node.id)
    for child in ast.iter_child_nodes(node):
        _reads(child, local, out)


def _binds(stmt) -> set:
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {stmt.name}
    bound = set()
    for sub in ast.walk(stmt):
        if isinstance(sub, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in sub.names)
        elif isinstance(sub, ast.Name) and isinstance(sub.ctx, (ast.Store, ast.Del)):
            bound.add(sub.id)
        elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(sub.name)
    return bound


def _scan(stmts, bound: set, free: set) -> None:
    """Walk statements in order: what each reads before anything bound it is free."""
    for stmt in stmts:
        if isinstance(stmt, (ast.For, ast.AsyncFor)):
            reads = set()
            _reads(stmt.iter, set(), reads)
            free |= reads - bound
            bound |= _targets(stmt.target)
            _scan(stmt.body + stmt.orelse, bound, free)
        elif isinstance(stmt, (ast.While, ast.If)):
            reads = set()
            _reads(stmt.test, set(), reads)
            free |= reads - bound
            _scan(stmt.body + stmt.orelse, bound, free)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            for item in stmt.items:
                reads = set()
                _reads(item.context_expr, set(), reads)
                free |= reads - bound
                if item.optional_vars is not None:
                    bound |= _targets(item.optional_vars)
            _scan(stmt.body, bound, free)
        elif isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
            _scan(stmt.body, bound, free)
            for handler in stmt.handlers:
                if handler.type is not None:
                    reads = set()
                    _reads(handler.type, set(), reads)
                    free |= reads - bound
                if handler.name:
                    bound.add(handler.name)
                _scan(handler.body, bound, free)
            _scan(stmt.orelse + stmt.finalbody, bound, free)
        else:
            reads = set()
            _reads(stmt, set(), reads)
            free |= reads - bound
            bound |= _binds(stmt)


def _names(*sources: str) -> tuple[set, set]:
    """(names the code binds, names it reads before binding them).

    The sources run in order, statement by statement (into loops and
    branches); a function body reads the globals it mentions when defined.
    """
    bound, free = set(), set()
    for src in sources:
        tree = ast.parse("\n".join(l for l in src.splitlines() if not _PRAGMA.match(l)))
        _scan(tree.body, bound, free)
    return bound, free - _BUILTINS


def needed_setup(setup: list[str], code: list[str]) -> list[int]:
    """Indices of the setup cells `code` (run in order after them) needs,
    directly or through each other.

    The first cell (the chapter's imports) is always kept; a name is taken
    from the last setup cell before its reader that binds it.
    """
    info = [_names(s) for s in setup]

    def provider(name, before):
        for i in range(before - 1, -1, -1):
            if name in info[i][0]:
                return i
        return None

    keep = {0}
    todo = [(n, len(setup)) for n in _names(*code)[1]] + [(n, 0) for n in info[0][1]]
    while todo:
        name, before = todo.pop()
        i = provider(name, before)
        if i is not None and i not in keep:
            keep.add(i)
            todo += [(n, i) for n in info[i][1]]
    return sorted(keep)


# -- the check calls -------------------------------------------------------------------
def _check_call(src: str):
    """The last top-level statement of `src` that calls ``check.<name>(...)``:
    (statement node, call node), or (None, None)."""
    tree = ast.parse(src)
    found = (None, None)
    for stmt in tree.body:
        value = getattr(stmt, "value", None)
        if (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)
                and isinstance(value.func.value, ast.Name) and value.func.value.id == "check"):
            found = (stmt, value)
    return found


def _drop_lines(src: str, stmts) -> str:
    lines = src.splitlines()
    drop = set()
    for s in stmts:
        drop.update(range(s.lineno - 1, s.end_lineno))
    kept = [l for i, l in enumerate(lines) if i not in drop]
    return "\n".join(kept).strip("\n")


def _without_feedback(src: str, check_name: str) -> str:
    """A solution cell without its ``feedback = check...`` / ``assert feedback`` / ``feedback`` lines."""
    tree = ast.parse(src)
    drop = []
    for stmt in tree.body:
        seg = ast.get_source_segment(src, stmt) or ""
        if (re.match(r"feedback\s*=\s*check\.", seg) or re.match(r"assert feedback\b", seg)
                or seg.strip() == "feedback"):
            drop.append(stmt)
    return _drop_lines(src, drop)


def _comment(text: str) -> str:
    return "\n".join(("# " + l).rstrip() for l in text.splitlines())


# -- MyST to plain Jupyter markdown ----------------------------------------------------
def plain_markdown(text: str) -> str:
    """The book's MyST roles as plain markdown (the release is opened in Jupyter, not Sphinx)."""
    text = re.sub(r"\{ref\}`([^`<]+?)\s*<[^`>]+>`", r"\1", text)
    text = re.sub(r"\{(?:ref|prf:ref|numref|doc)\}`([^`]+)`", r"*\1* (see the book)", text)
    text = re.sub(r"\{eq\}`([^`]+)`", r"equation *\1* of the book", text)
    text = re.sub(r"\{glue:text\}`([^`:]+)(?::[^`]*)?`", r"`\1`", text)
    text = re.sub(r"\{foot(?:cite|cite:p|cite:t)\}`[^`]+`", "", text)
    text = re.sub(r"\{(?:term|abbr|sub|sup|math|kbd)\}`([^`]+)`", r"\1", text)
    return text


# -- building the assignment -----------------------------------------------------------
def _cell(cell_type, source, grade_id, *, grade=False, solution=False, locked=False, points=None,
          cell_id=None):
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": SCHEMA_VERSION,
            "solution": solution, "task": False}
    if grade:
        meta["points"] = points
    cell = {"cell_type": cell_type, "id": cell_id or grade_id, "metadata": {"nbgrader": meta},
            "source": _lines(source)}
    if locked:
        cell["metadata"].update(deletable=False, editable=False)
    if cell_type == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def assignment_id(path: Path) -> str:
    return f"ch{path.stem}"


def build_assignment(nb: dict, path: Path, checks: dict, points: int = POINTS) -> tuple[dict, dict]:
    """The nbgrader source notebook for one chapter, and a summary of it.

    `checks` maps exercise labels to check functions (``check.exercises()``).
    """
    name = path.name
    setup, exercises = parse_chapter(nb, name)
    if not exercises:
        raise AssignmentError(f"{name}: no exercises")
    title_cell = next(_text(c) for c in nb["cells"] if c["cell_type"] == "markdown")
    title = re.search(r"^# (.+)$", title_cell, re.M)
    title = title.group(1).strip() if title else path.stem
    n = int(path.name[:2])

    graded_code = []
    for ex in exercises:
        if ex["label"] in checks:
            graded_code += ([ex["starter"]] if ex["starter"] else []) + ex["code"]
    keep = needed_setup(setup, graded_code) if setup else []

    cells = [
        _cell("markdown", f"# Chapter {n} exercises: {title}", "title", locked=True),
        _cell("markdown", NOTE.format(n=n, title=title, points=points), "note", locked=True),
    ]
    for k, i in enumerate(keep):
        cells.append(_cell("code", setup[i], f"setup-{k + 1}", locked=True))

    summary = {"assignment": assignment_id(path), "setup_cells": len(keep), "autograded": [], "manual": []}
    for ex in exercises:
        label = ex["label"]
        cells.append(_cell("markdown", f"## Exercise `{label}`\n\n" + plain_markdown(ex["text"]),
                           f"{label}-text", locked=True))
        fn = checks.get(label)
        if fn is None:
            answer = plain_markdown("\n\n".join(ex["prose"])) or "(model answer: see the book)"
            cells.append(_cell("markdown", answer, label, grade=True, solution=True, points=points))
            summary["manual"].append(label)
            continue
        cells += _graded_cells(ex, fn.__name__, points, name)
        summary["autograded"].append(label)
    out = {
        "cells": cells,
        "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                                    "name": "python3"},
                     "language_info": {"name": "python"}},
        "nbformat": 4, "nbformat_minor": 5,
    }
    return out, summary


def _graded_cells(ex, check_name, points, name):
    label = ex["label"]
    if not ex["starter"]:
        raise AssignmentError(f"{name}: {label} has a check but no starter cell")
    stmt, call = _check_call(ex["starter"])
    if call is None or call.func.attr != check_name:
        raise AssignmentError(f"{name}: the starter of {label} does not call check.{check_name}(...)")
    starter = ex["starter"]
    placeholders = _drop_lines(starter, [stmt])
    student_args = [ast.get_source_segment(starter, a) for a in call.args]
    student_kwargs = {k.arg: ast.get_source_segment(starter, k.value) for k in call.keywords}

    solution_call = None
    for src in ex["code"]:
        s, c = _check_call(src)
        if c is not None and c.func.attr == check_name:
            solution_call = (src, c)
    if solution_call is None:
        raise AssignmentError(f"{name}: the solution of {label} never calls check.{check_name}(...)")
    src, c = solution_call
    book_args = [ast.get_source_segment(src, a) for a in c.args]
    book_kwargs = {k.arg: ast.get_source_segment(src, k.value) for k in c.keywords}
    if len(book_args) != len(student_args) or set(book_kwargs) != set(student_kwargs):
        raise AssignmentError(f"{name}: the starter and the solution of {label} call "
                              f"check.{check_name} with different arguments")
    binds = []
    for mine, book in list(zip(student_args, book_args)) + [
            (student_kwargs[k], book_kwargs[k]) for k in student_kwargs]:
        if not mine.isidentifier():
            raise AssignmentError(f"{name}: the starter of {label} must pass names to the check, not {mine}")
        if mine != book:
            binds.append(f"{mine} = {book}")

    body = []
    if ex["prose"]:
        body.append("# The book's solution:\n#\n" + _comment(plain_markdown("\n\n".join(ex["prose"]))))
    for code in ex["code"]:
        code = _without_feedback(code, check_name) if code is src else code.strip("\n")
        if code:
            body.append(code)
    if binds:
        body.append("# the answer, in the names the check below reads\n" + "\n".join(binds))
    answer = (placeholders.rstrip("\n") + "\n\n### BEGIN SOLUTION\n" + "\n\n".join(body)
              + "\n### END SOLUTION")
    call_src = ast.get_source_segment(starter, call)
    test = (f"# Graded by the book's self-check ({points} point{'s' if points != 1 else ''}); "
            "read-only.\n"
            f"feedback = {call_src}\n"
            "print(feedback)\n"
            "assert feedback, feedback")
    return [
        _cell("code", answer, f"{label}-answer", solution=True),
        _cell("code", test, label, grade=True, locked=True, points=points),
    ]


def write_source(chapters: Path, course: Path, points: int = POINTS) -> list[dict]:
    """Write ``course/source/<assignment>/<assignment>.ipynb`` for every chapter,
    and ``course/nbgrader_config.py`` if there is none."""
    from smoothmax import check

    checks = check.exercises()
    course.mkdir(parents=True, exist_ok=True)
    config = course / "nbgrader_config.py"
    if not config.exists():
        config.write_text(NBGRADER_CONFIG.format(root=str(course.resolve())), encoding="utf-8")
    summaries = []
    for path in sorted(chapters.glob("[0-9][0-9]_*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        out, summary = build_assignment(nb, path, checks, points)
        aid = summary["assignment"]
        target = course / "source" / aid / f"{aid}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        summary["path"] = target
        summaries.append(summary)
    return summaries


# -- per-exercise CSV export (an nbgrader export plugin) -------------------------------
try:
    from nbgrader.plugins import ExportPlugin
except ImportError:  # the generator alone does not need nbgrader
    ExportPlugin = object


class ExerciseCsvExport(ExportPlugin):
    """``nbgrader export --exporter=assignments.ExerciseCsvExport``: one row per
    student and graded cell (exercise), with nbgrader's own scores.

    Columns: assignment, notebook, exercise, student_id, score, max_score,
    auto_score, manual_score, needs_manual_grade, submitted (False: nothing was
    submitted, score 0).  Writes ``grades_by_exercise.csv`` unless ``--to``.
    """

    COLUMNS = ["assignment", "notebook", "exercise", "student_id", "score", "max_score",
               "auto_score", "manual_score", "needs_manual_grade", "submitted"]

    def export(self, gradebook) -> None:
        from nbgrader.api import MissingEntry

        dest = self.to or "grades_by_exercise.csv"
        wanted_a = {str(a) for a in self.assignment}
        wanted_s = {str(s) for s in self.student}
        rows = []
        for assignment in gradebook.assignments:
            if wanted_a and assignment.name not in wanted_a:
                continue
            for student in gradebook.students:
                if wanted_s and student.id not in wanted_s:
                    continue
                for notebook in assignment.notebooks:
                    try:
                        sub = gradebook.find_submission_notebook(notebook.name, assignment.name, student.id)
                    except MissingEntry:
                        sub = None
                    for cell in notebook.grade_cells:
                        if sub is None:
                            rows.append([assignment.name, notebook.name, cell.name, student.id, 0,
                                         cell.max_score, "", "", False, False])
                            continue
                        grade = gradebook.find_grade(cell.name, notebook.name, assignment.name, student.id)
                        rows.append([assignment.name, notebook.name, cell.name, student.id, grade.score,
                                     cell.max_score, "" if grade.auto_score is None else grade.auto_score,
                                     "" if grade.manual_score is None else grade.manual_score,
                                     bool(grade.needs_manual_grade), True])
        with open(dest, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(self.COLUMNS)
            writer.writerows(rows)
        self.log.info("Exported %d per-exercise grades to %s", len(rows), dest)


# -- autograde with a tripwire ---------------------------------------------------------
GUARDED = ("gradebook.db", "nbgrader_config.py", "source", "release", "submitted", "autograded")


def _files(course: Path) -> dict:
    """Every guarded file of the course, path -> bytes."""
    out = {}
    for name in GUARDED:
        top = course / name
        paths = [top] if top.is_file() else (sorted(p for p in top.rglob("*") if p.is_file()) if top.is_dir() else [])
        for p in paths:
            out[p.relative_to(course).as_posix()] = p.read_bytes()
    return out


def _grades(course: Path) -> dict:
    """(assignment, student, notebook, cell) -> (auto, manual) for every grade, and the student ids."""
    from nbgrader.api import Gradebook

    grades = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        students = sorted(s.id for s in gb.students)
        for a in gb.assignments:
            for sub in a.submissions:
                for nb in sub.notebooks:
                    for g in nb.grades:
                        grades[(a.name, sub.student.id, nb.name, g.name)] = (g.auto_score, g.manual_score)
    return {"students": students, "grades": grades}


def _damage(course: Path, before: dict, grades_before: dict, assignment: str, students: list[str]) -> list[str]:
    """What a run of `students` on `assignment` changed that it should not have."""
    own = tuple(f"autograded/{s}/{assignment}/" for s in students)
    after = _files(course)
    problems = [f"{p} deleted" for p in before if p not in after and not p.startswith(own) and p != "gradebook.db"]
    problems += [f"{p} changed" for p in before if p in after and after[p] != before[p]
                 and not p.startswith(own) and p != "gradebook.db"]
    problems += [f"{p} created" for p in after if p not in before and not p.startswith(own)]
    if "gradebook.db" not in after:
        return problems + ["gradebook.db deleted"]
    try:
        now = _grades(course)
    except Exception as exc:  # noqa: BLE001 - a damaged gradebook is reported, not raised
        return problems + [f"gradebook.db unreadable ({type(exc).__name__}: {exc})"]
    if not set(grades_before["students"]) <= set(now["students"]):
        problems.append("gradebook.db: students removed")
    for key, value in grades_before["grades"].items():
        if key[1] in students and key[0] == assignment:
            continue
        if now["grades"].get(key) != value:
            problems.append(f"gradebook.db: grade {key} changed")
    return problems


def _restore(course: Path, before: dict, keep_prefixes=()) -> None:
    after = _files(course)
    for p in after:
        if p not in before and not p.startswith(keep_prefixes):
            (course / p).unlink()
    for p, data in before.items():
        target = course / p
        if not target.is_file() or target.read_bytes() != data:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)


def guarded_autograde(course: Path, assignment: str, students=None, extra_args=()) -> dict:
    """``nbgrader autograde`` with a tripwire: returns {student: [problems]}.

    All students run in one nbgrader call; if the course directory or the
    other students' grades changed in a way autograding never does, the
    course is restored from the copy taken before, and the students run
    again one at a time: a student whose run does damage is restored and
    reported (not graded), the others are graded.
    """
    course = Path(course).resolve()
    everyone = students is None
    if students is None:
        students = sorted(p.parent.name for p in (course / "submitted").glob(f"*/{assignment}") if p.is_dir())

    def run(student=None):
        cmd = [sys.executable, "-m", "nbgrader", "autograde", assignment, "--force", *extra_args]
        if student is not None:
            cmd += ["--student", student]
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
        return subprocess.run(cmd, cwd=course, capture_output=True, text=True, env=env)  # alembic on PATH

    before, grades_before = _files(course), _grades(course)
    if everyone:
        run()
    else:
        for student in students:
            run(student)
    problems = _damage(course, before, grades_before, assignment, students)
    report = {s: [] for s in students}
    if not problems:
        return report
    _restore(course, before)
    for student in students:
        before, grades_before = _files(course), _grades(course)
        run(student)
        found = _damage(course, before, grades_before, assignment, [student])
        if found:
            _restore(course, before)
            report[student] = found
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("source", help="write the nbgrader source notebooks")
    p.add_argument("chapters", type=Path)
    p.add_argument("course", type=Path)
    p.add_argument("--points", type=int, default=POINTS)
    p = sub.add_parser("autograde", help="nbgrader autograde with a tripwire")
    p.add_argument("assignment")
    p.add_argument("--course", type=Path, default=Path("."))
    p.add_argument("--student", action="append", help="only these students (default: all who submitted)")
    args = parser.parse_args(argv)
    if args.command == "autograde":
        report = guarded_autograde(args.course, args.assignment, args.student)
        bad = {s: p for s, p in report.items() if p}
        for s, p in report.items():
            print(f"{args.assignment} {s}: " + ("autograded" if not p else
                  "NOT GRADED, the run changed the course and was undone: " + "; ".join(p[:5])))
        return 1 if bad else 0
    if args.command == "source":
        try:
            summaries = write_source(args.chapters, args.course, args.points)
        except AssignmentError as exc:
            print(f"assignments: {exc}", file=sys.stderr)
            return 1
        if not summaries:
            print(f"assignments: no chapter notebooks in {args.chapters}", file=sys.stderr)
            return 1
        for s in summaries:
            print(f"{s['path']}: {len(s['autograded'])} autograded, {len(s['manual'])} manually graded, "
                  f"{s['setup_cells']} setup cells")
    return 0


if __name__ == "__main__":
    sys.exit(main())
