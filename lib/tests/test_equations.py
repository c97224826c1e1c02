"""smoothmax.equations: the reader's LaTeX, parsed and compared with results.

Each test names what a wrong formula in the prose would look like and shows
that the check catches it; the right formula passes.
"""

import json

import numpy as np
import pytest

from smoothmax import softmax, softmax_jacobian
from smoothmax.equations import Equations, FormulaError, FormulaMismatch, parse


def _values(rng, K=4):
    z = rng.normal(scale=2.0, size=K)
    a = softmax(z)
    return {"K": K, "z": z, "a": a, "v": rng.normal(size=K), "softmax": softmax,
            "diag": np.diag, "m": z.max(), "J": softmax_jacobian(z)}


def _notebook(tmp_path, markdown, name="99_test.ipynb"):
    nb = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": markdown}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / name).write_text(json.dumps(nb), encoding="utf-8")
    return name


@pytest.fixture
def chdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


SOFTMAX = r"a_j = \operatorname{softmax}(z)_j = \frac{e^{z_j}}{\sum_{k=1}^{K} e^{z_k}}, \qquad j = 1, \dots, K."


def _expected_softmax(v):
    return softmax(v["z"])[v["j"] - 1]


@pytest.mark.parametrize("tex", [
    SOFTMAX,
    r"\operatorname{softmax}(z)_j = \frac{e^{z_j - m}}{\sum_k e^{z_k - m}} .",
    r"J = \operatorname{diag}(a) - a a^\top .",
    r"J v = a \odot \bigl(v - (a^\top v)\,\mathbf{1}\bigr), \qquad\text{i.e.}\qquad (Jv)_j = a_j \bigl(v_j - \textstyle\sum_i a_i v_i\bigr),",
    r"\max_i z_i < \log \sum_k e^{z_k} \le \max_i z_i + \log K",
    r"J_{j,i} = a_j\,(\delta_{ij} - a_i) = \begin{cases} a_j (1 - a_j), & i = j, \\ -a_j a_i, & i \ne j, \end{cases}",
])
def test_right_formulas_pass(chdir, tex):
    name = _notebook(chdir, f"$$\n{tex}\n$$ (eq-x)\n")
    expected = _expected_softmax if "softmax}(z)_j" in tex else None
    assert Equations(name).check("eq-x", expected, _values) > 0


@pytest.mark.parametrize("wrong, why", [
    (r"a_j = \frac{e^{z_j}}{\sum_{k=1}^{K} e^{z_j}}", "summing the wrong index"),
    (r"\operatorname{softmax}(z)_j = \frac{e^{z_j + m}}{\sum_k e^{z_k - m}}", "shift with the wrong sign"),
    (r"J = \operatorname{diag}(a) + a a^\top", "sign of the outer product"),
    (r"(Jv)_j = a_j \bigl(v_j + \sum_i a_i v_i\bigr)", "sign inside the JVP"),
    (r"\log \sum_k e^{z_k} \le \max_i z_i", "inverted inequality"),
    (r"J_{j,i} = a_j\,(\delta_{ij} - a_j)", "a_j for a_i"),
])
def test_wrong_formulas_fail(chdir, wrong, why):
    name = _notebook(chdir, f"$$\n{wrong}\n$$ (eq-x)\n")
    expected = _expected_softmax if wrong.startswith(("a_j =", r"\operatorname{softmax}")) else None
    if wrong.startswith("J_{j,i}"):
        def expected(v):
            return softmax_jacobian(v["z"])[v["j"] - 1, v["i"] - 1]
    with pytest.raises(FormulaMismatch):
        Equations(name).check("eq-x", expected, _values)


def test_a_member_that_disagrees_with_the_notebook_fails(chdir):
    # the display is a bare expression, not the notebook's result
    name = _notebook(chdir, "$$\n\\frac{e^{z_j}}{K}\n$$ (eq-x)\n")
    with pytest.raises(FormulaMismatch, match="notebook's result"):
        Equations(name).check("eq-x", _expected_softmax, _values)


def test_check_text_needs_the_formula_in_the_prose(chdir):
    name = _notebook(chdir, "The answer is $f(x) = 2 x$.\n")
    eqs = Equations(name)
    assert eqs.check_text("f(x) = 2 x", lambda v: 2 * v["x"], lambda rng: {"x": rng.normal(),
                                                                          "f": lambda x: 2 * x})
    with pytest.raises(FormulaMismatch, match="does not occur"):
        eqs.check_text("f(x) = 3 x", None, [{"x": 1.0, "f": lambda x: 3 * x}])


def test_notation_needs_the_text_and_a_reason(chdir):
    name = _notebook(chdir, "Take $v = \\mathbf{1}$.\n")
    eqs = Equations(name)
    eqs.notation(r"v = \mathbf{1}", "a choice of direction")
    assert eqs.notations
    with pytest.raises(ValueError, match="why"):
        eqs.notation(r"v = \mathbf{1}", "")
    with pytest.raises(FormulaMismatch):
        eqs.notation(r"v = 0", "not there")


def test_approx_needs_a_stated_tolerance(chdir):
    name = _notebook(chdir, "$$\ns \\approx 3.95\n$$ (eq-x)\n")
    eqs = Equations(name)
    with pytest.raises(FormulaError, match="approx_rtol"):
        eqs.check("eq-x", None, [{"s": 3.955}])
    assert eqs.check("eq-x", None, [{"s": 3.955}], approx_rtol=5e-3)
    with pytest.raises(FormulaMismatch):
        eqs.check("eq-x", None, [{"s": 4.1}], approx_rtol=5e-3)


def test_unknown_notation_is_an_error_not_a_pass(chdir):
    name = _notebook(chdir, "$$\nx = \\Gamma(y)\n$$ (eq-x)\n")
    with pytest.raises(FormulaError):
        Equations(name).check("eq-x", None, [{"x": 1.0, "y": 1.0}])


def test_a_rewrite_must_match_the_text():
    with pytest.raises(FormulaError, match="does not occur"):
        parse("a = b", rewrite=[("c", "d")])


def test_aligned_rows_continue_the_chain():
    chains = parse(r"\begin{aligned} x &= 1 + 1 \\ &= 2 \end{aligned}")
    assert len(chains) == 1 and chains[0].rels == ["=", "="]


def test_range_declarations_are_not_claims():
    chains = parse(SOFTMAX)
    assert len(chains) == 1 and len(chains[0].members) == 3


def test_missing_label_names_the_label(chdir):
    name = _notebook(chdir, "$$\nx = 1\n$$ (eq-x)\n")
    with pytest.raises(KeyError, match="eq-y"):
        Equations(name).check("eq-y", None, [{"x": 1.0}])


def test_a_subscripted_symbol_before_a_squared_bracket_is_a_product():
    chains = parse(r"x = \sum_i a_i (v_i - c)^2")
    from smoothmax.equations import evaluate_chain
    a, v = np.array([0.2, 0.8]), np.array([1.0, 3.0])
    got = evaluate_chain(chains[0], {"a": a, "v": v, "c": 2.0, "x": 0.0, "K": 2}, {})
    assert np.isclose(got[1], np.sum(a * (v - 2.0) ** 2), rtol=0, atol=1e-15)


@pytest.mark.parametrize("tex, values, want", [
    (r"\lVert v \rVert_2", {"v": np.array([3.0, 4.0])}, 5.0),                     # a norm closes
    (r"\lVert a \rVert \lVert b \rVert", {"a": np.array([3.0, 4.0]), "b": np.array([1.0, 0.0])}, 5.0),
    (r"[x < y] + [y < x]", {"x": 1.0, "y": 2.0}, 1.0),                           # Iverson brackets
    (r"\sum_{s > t} c_s", {"c": np.array([1.0, 2.0, 4.0]), "t": 1, "K": 3}, 6.0),  # a range s > t
    (r"P(y \mid x)", {"P": lambda y, x: y - x, "x": 1.0, "y": 3.0}, 2.0),          # \mid separates
])
def test_grammar(tex, values, want):
    from smoothmax.equations import evaluate_chain
    (chain,) = parse(tex)
    assert evaluate_chain(chain, values, {})[0] == pytest.approx(want, abs=1e-15)


def test_a_claim_with_dots_is_not_mistaken_for_a_range():
    # "j = 1, ..., K" declares a range; a max over 1..K is a claim and must be read
    assert len(parse(r"a_j = b_j, \qquad j = 1, \dots, K")) == 1
    with pytest.raises(FormulaError):
        parse(r"h = \max_{i = 1, \dots, K} z_i \qquad \text{and} \qquad x = \dots")


def test_a_call_can_be_transposed():
    from smoothmax.equations import evaluate_chain
    (chain,) = parse(r"a(T)^\top b")
    got = evaluate_chain(chain, {"a": lambda T: np.array([1.0, T]), "b": np.array([1.0, 1.0]), "T": 2.0}, {})
    assert got[0] == 3.0
