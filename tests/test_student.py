"""The student edition (`make student`) and the exercises it is made for.

* The cutter removes exactly the gated solutions: prose, code cells and the
  two directives, wherever in a markdown cell they start and end.
* The real edition of every chapter keeps every exercise and every other cell,
  has no solution and no output left, and runs top to bottom in a fresh kernel.
* Every chapter has at least three exercises with folded solutions; every
  `smoothmax.check` has its exercise, a starter cell that calls it, and a
  solution that asserts it.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys

import pytest

from conftest import CHAPTERS_DIR, ROOT, run_in_fresh_kernel

CHAPTERS = sorted(CHAPTERS_DIR.glob("[0-9][0-9]_*.ipynb"))

_spec = importlib.util.spec_from_file_location("student_edition", ROOT / "tools" / "student_edition.py")
student_edition = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(student_edition)


def _md(text):
    return {"cell_type": "markdown", "metadata": {}, "source": text.splitlines(keepends=True)}


def _code(text, tags=()):
    return {"cell_type": "code", "metadata": {"tags": list(tags)}, "execution_count": 3,
            "outputs": [{"output_type": "stream", "name": "stdout", "text": "old\n"}],
            "source": text.splitlines(keepends=True)}


def _nb(*cells):
    return {"cells": list(cells), "metadata": {"kernelspec": {"name": "python3"}},
            "nbformat": 4, "nbformat_minor": 5}


def _text(nb):
    return ["".join(c["source"]) for c in nb["cells"]]


# -- the cutter -------------------------------------------------------------------
def test_cuts_solutions_that_start_and_end_inside_markdown_cells():
    nb = _nb(
        _md("# Title\n\nIntro.\n\n```{exercise}\n:label: ex-a\n\nDo A.\n```\n\n"
            "```{solution-start} ex-a\n:class: dropdown\n```\n\nSecret prose A.\n"),
        _code("secret_a = 1"),
        _md("More secret A.\n\n```{solution-end}\n```\n\n```{exercise}\n:label: ex-b\n\nDo B.\n```"),
        _code("check.b(None)", tags=["exercise-starter"]),
        _md("````{solution-start} ex-b\n:class: dropdown\n````\nSecret B.\n````{solution-end}\n````\n\n## Summary"),
        _code("print('after')"),
    )
    out, removed = student_edition.strip_solutions(nb)
    assert removed == 2
    text = "\n".join(_text(out))
    assert "secret" not in text.lower() and "solution" not in text
    assert _text(out) == [
        "# Title\n\nIntro.\n\n```{exercise}\n:label: ex-a\n\nDo A.\n```\n",
        "```{exercise}\n:label: ex-b\n\nDo B.\n```",
        "check.b(None)",
        "## Summary",
        "print('after')",
    ]
    for cell in out["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None
    assert nb["cells"][1]["outputs"], "the input notebook was modified"


@pytest.mark.parametrize("cells, problem", [
    ([_md("```{solution-start} ex-a\n```\n")], "never closed"),
    ([_md("```{solution-end}\n```\n")], "without solution-start"),
    ([_md("```{solution-start} ex-a\n```\n"), _md("```{solution-start} ex-b\n```\n")], "inside another"),
])
def test_a_broken_solution_structure_is_an_error(cells, problem):
    with pytest.raises(student_edition.SolutionStructureError, match=problem):
        student_edition.strip_solutions(_nb(*cells))


# -- the real edition ---------------------------------------------------------------
@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    dest = tmp_path_factory.mktemp("student")
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "student_edition.py"),
                             str(CHAPTERS_DIR), str(dest)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return dest


def _labels(text, kind):
    return re.findall(r"\{" + kind + r"\}[^\n]*\n:label: (\S+)", text)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_the_edition_keeps_everything_but_the_solutions(path, edition):
    full = json.loads(path.read_text(encoding="utf-8"))
    student = json.loads((edition / path.name).read_text(encoding="utf-8"))
    full_text, student_text = "\n".join(_text(full)), "\n".join(_text(student))

    exercises = _labels(full_text, "exercise")
    assert exercises and _labels(student_text, "exercise") == exercises
    assert "{solution-start}" not in student_text and "{solution-end}" not in student_text
    # the note directly follows the title (after the hidden setup cell)
    title = next(i for i, c in enumerate(student["cells"]) if c["cell_type"] == "markdown")
    assert student["cells"][title + 1]["id"] == "student-note" and "Student edition" in student_text
    for cell in student["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None
    # every code cell outside a solution survives, in order
    outside = [s for s, inside in zip(_text(full), _inside_solution(full)) if not inside]
    kept_code = [s for c, s in zip(student["cells"], _text(student)) if c["cell_type"] == "code"]
    full_code = [s for c, s in zip(full["cells"], _text(full)) if c["cell_type"] == "code" and s in outside]
    assert kept_code == full_code
    assert len(kept_code) < sum(c["cell_type"] == "code" for c in full["cells"])


def _inside_solution(nb):
    """For each cell: does it lie entirely inside a solution?"""
    inside, flags = False, []
    for text in _text(nb):
        starts = text.count("{solution-start}")
        ends = text.count("{solution-end}")
        flags.append(inside and not starts and not ends)
        inside = inside if starts == ends else starts > ends
    return flags


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_the_edition_runs_in_a_fresh_kernel(path, edition):
    stderr = run_in_fresh_kernel(edition / path.name)
    assert not stderr, f"cells wrote to stderr: {stderr}"


# -- the exercises --------------------------------------------------------------------
@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_each_chapter_has_three_exercises_with_folded_solutions(path):
    text = "\n".join(_text(json.loads(path.read_text(encoding="utf-8"))))
    exercises = _labels(text, "exercise")
    assert len(exercises) >= 3
    solutions = re.findall(r"\{solution-start\} (\S+)\n:class: dropdown\n", text)
    assert solutions == exercises, "each exercise needs one folded (dropdown) solution, in order"


def test_every_check_has_its_exercise_a_starter_and_an_asserting_solution():
    from smoothmax import check

    notebooks = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in CHAPTERS}
    for label, fn in check.exercises().items():
        chapter = int(fn.__module__.rsplit(".", 1)[1][2:4])
        name, nb = next((n, nb) for n, nb in notebooks.items() if int(n[:2]) == chapter)
        text = "\n".join(_text(nb))
        assert f":label: {label}" in text, f"{label}: no such exercise in {name}"
        call = f"check.{fn.__name__}("
        starters = [s for c, s in zip(nb["cells"], _text(nb))
                    if "exercise-starter" in c["metadata"].get("tags", []) and call in s]
        assert len(starters) == 1, f"{label}: {name} needs one starter cell calling {call}...)"
        in_solution = [s for s, inside in zip(_text(nb), _inside_solution(nb)) if inside and call in s]
        assert any(re.search(r"assert feedback\b", s) for s in in_solution), \
            f"{label}: the solution in {name} must assert its own answer passes {call}...)"


def test_each_checked_exercise_states_the_tolerance_its_check_enforces():
    """A student must know how close is close enough: the sentence the check
    reports with `check.tolerance(label)` appears in the exercise itself."""
    from smoothmax import check

    texts = {int(p.name[:2]): "\n".join(_text(json.loads(p.read_text(encoding="utf-8")))) for p in CHAPTERS}
    for label, fn in check.exercises().items():
        text = texts[int(fn.__module__.rsplit(".", 1)[1][2:4])]
        start = text.index(f":label: {label}")
        exercise = text[start:text.index("```", start)]
        sentence = " ".join(check.tolerance(label).split())
        assert sentence in " ".join(exercise.split()), f"{label}: the exercise should state: {sentence}"
