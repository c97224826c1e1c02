"""Assignments that grade themselves (`make assignments`, `make grades`), end to end with nbgrader.

One course in a temporary directory for the whole module: the source
notebooks from tools/assignments.py, `nbgrader generate_assignment` for every
chapter, then `nbgrader autograde` (through the tripwire of
`tools/assignments.py autograde`) and `nbgrader export`, with the real
SQLite gradebook.

* the release has no solutions; the book's own solutions get full marks on
  every autograded exercise, the untouched release gets zero;
* hostile or broken submissions to chapter 4 (an exception, an endless loop,
  a notebook whose test cells were deleted or rewritten, a cell that reads
  the source notebooks, a cell that deletes the gradebook and the other
  students' work) get their true score or are reported and undone, and the
  others' grades survive;
* the per-exercise CSV has one row per student and exercise.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import CHAPTERS_DIR, ROOT

pytest.importorskip("nbgrader", reason="nbgrader is in requirements-dev.txt")

_spec = importlib.util.spec_from_file_location("assignments", ROOT / "tools" / "assignments.py")
assignments = importlib.util.module_from_spec(_spec)
sys.modules["assignments"] = assignments
_spec.loader.exec_module(assignments)

CHAPTERS = sorted(CHAPTERS_DIR.glob("[0-9][0-9]_*.ipynb"))
IDS = [f"ch{p.stem}" for p in CHAPTERS]
HOSTILE = "ch04_coverage"
# nbgrader runs `alembic` from the PATH: the venv's bin comes first.
ENV = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
       "PYTHONPATH": str(ROOT / "tools"), "MPLBACKEND": "Agg",
       "IPYTHONDIR": str(ROOT / "_ext" / "ipython")}


def nbgrader(course, *args, check=True):
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=ENV,
                            capture_output=True, text=True)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def scores(course, assignment):
    """{student: {exercise: score}} from the gradebook."""
    from nbgrader.api import Gradebook

    out = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for sub in gb.find_assignment(assignment).submissions:
            out[sub.student.id] = {g.name: g.score for nb in sub.notebooks for g in nb.grades}
    return out


def _cells(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))["cells"]


def _grade_id(cell):
    return cell["metadata"].get("nbgrader", {}).get("grade_id")


def _submit(course, student, assignment, cells):
    nb = json.loads((course / "release" / assignment / f"{assignment}.ipynb").read_text(encoding="utf-8"))
    nb["cells"] = cells
    dest = course / "submitted" / student / assignment
    dest.mkdir(parents=True, exist_ok=True)
    (dest / f"{assignment}.ipynb").write_text(json.dumps(nb), encoding="utf-8")


def _answer(cells, label, source):
    for cell in cells:
        if _grade_id(cell) == f"{label}-answer":
            cell["source"] = source
            return
    raise KeyError(label)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    os.environ.update({k: ENV[k] for k in ("MPLBACKEND", "IPYTHONDIR", "PATH")})
    course = tmp_path_factory.mktemp("course")
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "assignments.py"), "source",
                             str(CHAPTERS_DIR), str(course)], capture_output=True, text=True, env=ENV)
    assert result.returncode == 0, result.stderr
    for aid in IDS:
        nbgrader(course, "generate_assignment", aid)
        for student, folder in [("book", "source"), ("blank", "release")]:
            dest = course / "submitted" / student / aid
            dest.mkdir(parents=True)
            shutil.copy(course / folder / aid / f"{aid}.ipynb", dest)
    return course


@pytest.fixture(scope="module")
def graded(course):
    for aid in IDS:
        if aid != HOSTILE:
            assert assignments.guarded_autograde(course, aid) == {"book": [], "blank": []}
    return course


# -- the source notebooks ---------------------------------------------------------------
def test_every_exercise_is_graded_and_every_check_has_its_test_cell(course):
    from smoothmax import check

    expected = check.exercises()
    seen = set()
    for aid in IDS:
        for cell in _cells(course / "source" / aid / f"{aid}.ipynb"):
            meta = cell["metadata"].get("nbgrader")
            assert meta, "every cell of an assignment is an nbgrader cell"
            if not meta["grade"]:
                continue
            label = meta["grade_id"]
            seen.add(label)
            assert meta["points"] == assignments.POINTS
            if label in expected:  # autograded: a read-only cell calling the same check
                assert cell["cell_type"] == "code" and meta["locked"] and not meta["solution"]
                assert f"check.{expected[label].__name__}(" in "".join(cell["source"])
            else:                  # manually graded answer
                assert cell["cell_type"] == "markdown" and meta["solution"]
    assert set(expected) <= seen
    assert "ex-cov-slider" in seen - set(expected)


def test_the_release_has_no_solution(course):
    for aid in IDS:
        source = _cells(course / "source" / aid / f"{aid}.ipynb")
        release = _cells(course / "release" / aid / f"{aid}.ipynb")
        text = "\n".join("".join(c["source"]) for c in release)
        assert "BEGIN SOLUTION" not in text and "The book's solution" not in text
        assert [_grade_id(c) for c in source] == [_grade_id(c) for c in release]
        for s, r in zip(source, release):
            if s["metadata"]["nbgrader"]["solution"]:
                body = "".join(s["source"]).split("### BEGIN SOLUTION")[-1]
                assert body.strip() and body.split("### END SOLUTION")[0].strip() not in "".join(r["source"])
            else:
                assert s["source"] == r["source"]


def test_a_starter_without_its_check_call_is_an_error():
    nb = json.loads(CHAPTERS[0].read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if "exercise-starter" in cell["metadata"].get("tags", []):
            cell["source"] = "my_answer = None\n"
            break
    from smoothmax import check

    with pytest.raises(assignments.AssignmentError, match="does not call check"):
        assignments.build_assignment(nb, CHAPTERS[0], check.exercises())


# -- autograding ----------------------------------------------------------------------------
@pytest.mark.parametrize("aid", [a for a in IDS if a != HOSTILE])
def test_the_books_solutions_get_full_marks_and_the_release_zero(graded, aid):
    got = scores(graded, aid)
    from smoothmax import check

    labels = [l for l in check.exercises() if l in got["book"]]
    assert labels and all(got["book"][l] == assignments.POINTS for l in labels), got["book"]
    assert all(v == 0 for v in got["blank"].values()), got["blank"]


@pytest.fixture(scope="module")
def hostile(course):
    aid = HOSTILE
    release = _cells(course / "release" / aid / f"{aid}.ipynb")
    book = {_grade_id(c): "".join(c["source"]) for c in _cells(course / "source" / aid / f"{aid}.ipynb")}

    def cells():
        return json.loads(json.dumps(release))

    tv, loop = "ex-cov-tv", "ex-cov-grad-loop"
    crash = cells()
    _answer(crash, tv, "my_min = 1 / 0\n")
    _answer(crash, loop, book[f"{loop}-answer"])
    _submit(course, "crash", aid, crash)

    endless = cells()
    _answer(endless, tv, book[f"{tv}-answer"])
    _answer(endless, loop, "while True:\n    pass\n")
    _submit(course, "endless", aid, endless)

    # tests deleted or rewritten, points and lock altered: nbgrader puts them back
    tamper = cells()
    _answer(tamper, tv, book[f"{tv}-answer"])
    tamper = [c for c in tamper if _grade_id(c) != tv]
    for c in tamper:
        if _grade_id(c) == loop:
            c["source"] = "pass  # always passes\n"
            c["metadata"]["nbgrader"].update(points=100, locked=False)
        if _grade_id(c) == "setup-1":
            del c["metadata"]["nbgrader"]
    _submit(course, "tamper", aid, tamper)

    # reads the instructor's source notebook from the course directory
    snoop = cells()
    _answer(snoop, loop, (
        "import glob, json\n"
        "src = glob.glob('../../../source/*/ch04_coverage.ipynb')[0]\n"
        "cells = json.load(open(src))['cells']\n"
        "exec(next(''.join(c['source']) for c in cells\n"
        "          if c['metadata']['nbgrader']['grade_id'] == 'ex-cov-grad-loop-answer'))\n"))
    _submit(course, "snoop", aid, snoop)

    # autograde does not need the source notebooks: keep them off the grading machine
    instructor = course.parent / "instructor-only"
    instructor.mkdir(exist_ok=True)
    shutil.move(course / "source" / aid / f"{aid}.ipynb", instructor / f"{aid}.ipynb")
    first = assignments.guarded_autograde(course, aid, extra_args=["--Execute.timeout=20"])
    before = scores(course, aid)

    vandal = cells()
    _answer(vandal, tv, book[f"{tv}-answer"] + (
        "\nimport glob, os, shutil\n"
        "for p in glob.glob('../../../gradebook.db*'):\n    os.remove(p)\n"
        "for d in glob.glob('../../../submitted/*') + glob.glob('../../*'):\n"
        "    if 'vandal' not in d:\n        shutil.rmtree(d, ignore_errors=True)\n"))
    _submit(course, "vandal", aid, vandal)
    files_before = {p: p.read_bytes() for p in (course / "submitted").rglob("*.ipynb") if "vandal" not in str(p)}
    second = assignments.guarded_autograde(course, aid, students=["vandal"],
                                           extra_args=["--Execute.timeout=20"])
    return {"first": first, "before": before, "second": second, "files_before": files_before,
            "after": scores(course, aid)}


def test_hostile_submissions_get_their_true_score(hostile, course):
    assert hostile["first"] == {s: [] for s in ["blank", "book", "crash", "endless", "snoop", "tamper"]}
    got = hostile["before"]
    auto = lambda s: {k: v for k, v in got[s].items() if k != "ex-cov-slider"}  # noqa: E731
    assert auto("book") == {"ex-cov-tv": 1, "ex-cov-grad-loop": 1}
    assert auto("blank") == {"ex-cov-tv": 0, "ex-cov-grad-loop": 0}
    assert auto("crash") == {"ex-cov-tv": 0, "ex-cov-grad-loop": 1}       # the exception costs its exercise
    assert auto("endless") == {"ex-cov-tv": 1, "ex-cov-grad-loop": 0}     # interrupted at the timeout
    assert auto("tamper") == {"ex-cov-tv": 1, "ex-cov-grad-loop": 0}      # tests restored, 1 point each
    assert auto("snoop") == {"ex-cov-tv": 0, "ex-cov-grad-loop": 0}       # no source/ notebook to read

    def outputs(student):
        cells = _cells(course / "autograded" / student / HOSTILE / f"{HOSTILE}.ipynb")
        return {_grade_id(c): [o.get("ename") for o in c.get("outputs", []) if o["output_type"] == "error"]
                for c in cells if c["cell_type"] == "code"}

    assert "ZeroDivisionError" in outputs("crash")["ex-cov-tv-answer"]
    assert "CellTimeoutError" in outputs("endless")["ex-cov-grad-loop-answer"]
    assert "FileNotFoundError" in outputs("snoop")["ex-cov-grad-loop-answer"] or \
        "IndexError" in outputs("snoop")["ex-cov-grad-loop-answer"]
    tampered = _cells(course / "autograded" / "tamper" / HOSTILE / f"{HOSTILE}.ipynb")
    restored = {_grade_id(c): c for c in tampered}
    assert "check.cov_tv(" in "".join(restored["ex-cov-tv"]["source"])
    assert "check.cov_grad_loop(" in "".join(restored["ex-cov-grad-loop"]["source"])
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        sub = gb.find_submission(HOSTILE, "tamper")
        assert sub.max_score == 3  # the 100 points did not stick


def test_a_submission_that_deletes_files_is_undone_and_reported(hostile, course):
    problems = hostile["second"]["vandal"]
    assert any("gradebook.db" in p for p in problems)
    assert any(p.startswith("submitted/book/") for p in problems)
    assert hostile["after"] == hostile["before"], "the other students' grades survive"
    for path, data in hostile["files_before"].items():
        assert path.read_bytes() == data
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        assert "vandal" not in {s.student.id for s in gb.find_assignment(HOSTILE).submissions}


# -- grades -----------------------------------------------------------------------------------
def test_grades_export_one_row_per_student_and_exercise(graded, hostile, course):
    nbgrader(course, "export", "--exporter=assignments.ExerciseCsvExport", "--to=by_exercise.csv")
    nbgrader(course, "export", "--to=grades.csv")
    with open(course / "by_exercise.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == assignments.ExerciseCsvExport.COLUMNS
    by = {(r["assignment"], r["student_id"], r["exercise"]): r for r in rows}
    assert float(by[(HOSTILE, "crash", "ex-cov-grad-loop")]["score"]) == 1
    assert float(by[(HOSTILE, "crash", "ex-cov-tv")]["score"]) == 0
    assert by[(HOSTILE, "book", "ex-cov-slider")]["needs_manual_grade"] == "True"
    assert by[("ch01_softmax", "crash", "ex-softmax-jvp")]["submitted"] == "False"
    for aid in IDS:
        if aid != HOSTILE:
            assert all(float(r["score"]) == float(r["max_score"]) for k, r in by.items()
                       if k[0] == aid and k[1] == "book" and r["needs_manual_grade"] == "False")
    with open(course / "grades.csv", newline="", encoding="utf-8") as f:
        totals = {(r["assignment"], r["student_id"]): r for r in csv.DictReader(f)}
    assert float(totals[(HOSTILE, "book")]["raw_score"]) == 2
    assert float(totals[(HOSTILE, "tamper")]["max_score"]) == 3
