"""Every formula a reader reads is checked against the notebook's results.

A numbered display equation must be checked by ``eqs.check("eq-label", ...)``
in a code cell of its chapter; a formula in an exercise solution (display or
inline, with a relation such as =, <, \\le, \\approx) by ``eqs.check_text(...)``
with its exact text, or declared ``eqs.notation(text, why)`` when it states no
result.  ``smoothmax.equations`` does the comparing when the chapter runs (a
mismatch fails the build); this test makes sure nothing is left out, and that
a wrong formula in the prose really stops a chapter.

Run with ``-s`` to see the counts; README.md states them and is checked here.
"""

from __future__ import annotations

import ast
import json
import re
import shutil

import pytest

from conftest import CHAPTERS_DIR, ROOT, run_in_fresh_kernel

CHAPTERS = sorted(CHAPTERS_DIR.glob("[0-9][0-9]_*.ipynb"))
CALLS = ("check", "check_text", "notation")
RELATION = re.compile(r"=|<|>|\\le\b|\\leq\b|\\ge\b|\\geq\b|\\approx\b|\\ne\b|\\neq\b")
# `K = 2`, `s = 12`, `\lambda = 10`, `T \approx`: a setting, or a number from a glue role
SYMBOL = r"\\?[A-Za-z]+(?:_(?:\{[^{}$]*\}|\w))?(?:\^(?:\{[^{}$]*\}|\w))?"
SETTING = re.compile(rf"^\s*{SYMBOL}\s*(?:=|<|>|\\le|\\ge|\\ne|\\approx)\s*-?[\d.]*\s*$")
SOLUTION = re.compile(r"(`{3,}|:{3,})\{solution-start\}.*?(`{3,}|:{3,})\{solution-end\}[^\n]*\n\2", re.S)


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _cells(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [(c["cell_type"], "".join(c["source"])) for c in nb["cells"]]


def numbered_equations(path) -> list[str]:
    md = "\n\n".join(src for kind, src in _cells(path) if kind == "markdown")
    return [m.group(2) for m in re.finditer(r"\$\$(.*?)\$\$[ \t]*\(([^)\s]+)\)", md, re.S)]


def solution_formulas(path) -> list[str]:
    """Formulas with a relation inside solutions, settings and glue fragments aside."""
    md = "\n\n".join(src for kind, src in _cells(path) if kind == "markdown")
    found = []
    for sol in SOLUTION.finditer(md):
        text = sol.group(0)
        displays = re.findall(r"\$\$(.*?)\$\$", text, re.S)
        rest = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)
        inline = re.findall(r"(?<![\\$])\$([^$]+?)\$", rest)
        for tex in displays + inline:
            tex = tex.strip()
            if not RELATION.search(tex) or SETTING.match(tex):
                continue
            if re.search(r"(=|\\approx|<|>)\s*$", tex):  # value follows from a glue role
                continue
            found.append(tex)
    return found


def formula_calls(path) -> dict[str, list[str]]:
    """First string arguments of eqs.check / check_text / notation in the code cells."""
    calls = {name: [] for name in CALLS}
    for kind, src in _cells(path):
        if kind != "code":
            continue
        for node in ast.walk(ast.parse(src)):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in CALLS and node.args
                    and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                calls[node.func.attr].append(node.args[0].value)
    return calls


def _coverage(path):
    calls = formula_calls(path)
    labels = numbered_equations(path)
    checked_labels = [lab for lab in labels if lab in calls["check"]]
    texts_checked = {_squash(t) for t in calls["check_text"]}
    texts_notation = {_squash(t) for t in calls["notation"]}
    formulas = solution_formulas(path)
    sol_checked = [f for f in formulas if _squash(f) in texts_checked]
    sol_notation = [f for f in formulas if _squash(f) in texts_notation and _squash(f) not in texts_checked]
    return labels, checked_labels, formulas, sol_checked, sol_notation


def totals():
    t = dict(numbered=0, numbered_checked=0, solution=0, solution_checked=0, solution_notation=0)
    for path in CHAPTERS:
        labels, checked, formulas, sol_checked, sol_notation = _coverage(path)
        t["numbered"] += len(labels)
        t["numbered_checked"] += len(checked)
        t["solution"] += len(formulas)
        t["solution_checked"] += len(sol_checked)
        t["solution_notation"] += len(sol_notation)
    return t


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_every_numbered_equation_is_checked(path):
    labels, checked, *_ = _coverage(path)
    missing = [lab for lab in labels if lab not in checked]
    print(f"{path.name}: {len(checked)} of {len(labels)} numbered equations checked")
    assert labels, "a chapter without numbered equations?"
    assert not missing, f"{path.name}: numbered equations with no eqs.check(...): {missing}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_every_formula_in_a_solution_is_checked_or_declared_notation(path):
    _, _, formulas, sol_checked, sol_notation = _coverage(path)
    missing = [f for f in formulas if f not in sol_checked and f not in sol_notation]
    print(f"{path.name}: solution formulas {len(sol_checked)} checked, "
          f"{len(sol_notation)} notation, of {len(formulas)}")
    assert not missing, f"{path.name}: solution formulas neither checked nor declared notation: {missing}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_checks_name_formulas_that_exist(path):
    """A check of a label or text that the prose no longer has is stale."""
    calls = formula_calls(path)
    labels = set(numbered_equations(path))
    md = _squash("\n\n".join(src for kind, src in _cells(path) if kind == "markdown"))
    assert not [lab for lab in calls["check"] if lab not in labels]
    assert not [t for t in calls["check_text"] + calls["notation"] if _squash(t) not in md]


def test_readme_states_the_counts():
    t = totals()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    claim = (f"{t['numbered_checked']} of {t['numbered']} numbered equations and "
             f"{t['solution_checked']} of {t['solution']} formulas in solutions "
             f"({t['solution_notation']} more declared notation)")
    print(claim)
    assert claim in readme, f"README should say: {claim}"


@pytest.mark.parametrize("path, old, new", [
    # a sign flipped in a displayed theorem
    ("01_softmax.ipynb", r"\begin{cases} a_j (1 - a_j)", r"\begin{cases} a_j (1 + a_j)"),
    # an inequality reversed in prose
    ("05_temperature.ipynb", r"\max_i z_i \le T \operatorname{LSE}(z / T)", r"\max_i z_i \ge T \operatorname{LSE}(z / T)"),
])
def test_a_wrong_formula_in_the_prose_stops_the_chapter(path, old, new, tmp_path):
    from nbclient.exceptions import CellExecutionError

    work = tmp_path / "chapters"
    shutil.copytree(CHAPTERS_DIR, work)
    nb_path = work / path
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    hits = 0
    for cell in nb["cells"]:
        src = "".join(cell["source"])
        if cell["cell_type"] == "markdown" and old in src:
            cell["source"] = src.replace(old, new)
            hits += 1
    assert hits == 1, f"{old!r} should occur once in {path}"
    nb_path.write_text(json.dumps(nb), encoding="utf-8")
    with pytest.raises(CellExecutionError, match="FormulaMismatch"):
        run_in_fresh_kernel(nb_path)
