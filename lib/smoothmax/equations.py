"""Check the formulas a reader reads against the results a notebook asserts.

Book machinery, not numerics: the chapters of *Smooth Max* derive each result
in SymPy and assert it in code, but the reader reads the LaTeX in the prose.
This module closes that gap.  :class:`Equations` reads a chapter notebook's
own markdown, finds a displayed equation by its label (or a formula by its
exact text, for formulas in solutions), *parses the LaTeX the reader sees*
and evaluates every member of its chain (``a = b = c``, ``x <= y``) at sample
values, comparing each ``=`` member with a reference computed in the notebook
(a lambdified SymPy result or a ``smoothmax`` function).  A wrong sign, a
missing factor or an inverted inequality in the prose therefore fails the
cell, and with it the build.

The grammar is the small subset of LaTeX the book uses: numbers, one-letter
symbols with subscripts and superscripts, ``\\frac``, ``\\sqrt``, ``\\sum``
(with ``k=1..K``, ``k`` alone, or ``k \\ne c``), ``\\max``/``\\min``,
``\\log``/``\\exp``/``\\tanh``/``\\cos``, ``\\operatorname{name}`` (looked up
in the values given), vectors and matrices (``a^\\top v``, ``a a^\\top``,
``\\odot``, ``\\mathbf{1}``), ``aligned`` and ``cases`` environments.
Anything else raises :class:`FormulaError` naming the token: the formula must
then be rewritten or its check given an explicit, visible ``rewrite``.

Typical use in a hidden cell::

    eqs = Equations("01_softmax.ipynb")
    eqs.check("eq-softmax", lambda v: smoothmax.softmax(v["z"])[v["j"] - 1],
              values=lambda rng: {"z": rng.normal(size=4), "K": 4})
"""

from __future__ import annotations

import itertools
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

__all__ = ["Equations", "FormulaError", "FormulaMismatch", "parse", "evaluate_chain"]


class FormulaError(ValueError):
    """The LaTeX could not be read (unsupported syntax or a missing value)."""


class FormulaMismatch(AssertionError):
    """A formula the reader sees disagrees with the notebook's result."""


# --------------------------------------------------------------------------
# Normalisation and tokens
# --------------------------------------------------------------------------

_SPACING = re.compile(r"(?<!\\)\\[,;:! ]|\\quad\b|~|\\textstyle\b|\\displaystyle\b|\\limits\b|\\!")
_SIZING = re.compile(r"\\(?:bigl|bigr|Bigl|Bigr|biggl|biggr|Biggl|Biggr|big|Big|left|right)(?![a-zA-Z])")
_TOKEN = re.compile(r"""
    (?P<num>\d+(?:\.\d+)?)
  | (?P<cmd>\\[a-zA-Z]+)
  | (?P<esc>\\[{}|])
  | (?P<rowsep>\\\\)
  | (?P<sym>[a-zA-Z])
  | (?P<op><=|>=|[-+*/=<>(),\[\]{}^_'&|!.:])
  | (?P<ws>\s+)
""", re.X)

_RELATIONS = {"=": "=", "<": "<", ">": ">", r"\le": "<=", r"\leq": "<=", r"\ge": ">=",
              r"\geq": ">=", r"\approx": "~", r"\ne": "!=", r"\neq": "!="}
_FUNCS = {r"\log": np.log, r"\ln": np.log, r"\exp": np.exp, r"\tanh": np.tanh,
          r"\cos": np.cos, r"\sin": np.sin, r"\sigma": None}
_GREEK = {r"\alpha", r"\beta", r"\gamma", r"\delta", r"\varepsilon", r"\epsilon", r"\eta",
          r"\theta", r"\lambda", r"\mu", r"\sigma", r"\tau", r"\phi", r"\psi", r"\omega",
          r"\rho", r"\pi", r"\ell", r"\Delta", r"\kappa", r"\nu", r"\xi", r"\zeta"}


def _normalise(tex: str) -> str:
    tex = re.sub(r"(?<!\\)%.*", "", tex)
    tex = _SIZING.sub("", tex)
    tex = _SPACING.sub(" ", tex)
    tex = tex.replace(r"\lvert", "|").replace(r"\rvert", "|")
    tex = tex.replace(r"\lVert", r"\Vert ").replace(r"\rVert", r"\Vert ").replace(r"\|", r"\Vert ")
    tex = tex.replace(r"\top", "T_OP").replace(r"\intercal", "T_OP")
    tex = tex.replace(r"\cdot", r"\mul ").replace(r"\times", r"\mul ")
    tex = re.sub(r"\\mid(?![a-zA-Z])", ",", tex)
    tex = tex.replace(r"\tfrac", r"\frac").replace(r"\dfrac", r"\frac")
    return tex.strip().rstrip(".,;").strip()


@dataclass
class _Tok:
    kind: str
    text: str


def _tokens(tex: str) -> list[_Tok]:
    tex = _normalise(tex)
    out, pos = [], 0
    while pos < len(tex):
        m = _TOKEN.match(tex, pos)
        if not m:
            raise FormulaError(f"cannot read {tex[pos:pos + 20]!r}")
        pos = m.end()
        kind = m.lastgroup
        if kind == "ws":
            continue
        text = m.group()
        if kind == "sym" and tex.startswith("T_OP", m.start()):
            pos = m.start() + 4
            out.append(_Tok("top", "T_OP"))
            continue
        out.append(_Tok(kind, text))
    return out


# --------------------------------------------------------------------------
# AST
# --------------------------------------------------------------------------

@dataclass
class Node:
    kind: str
    args: list = field(default_factory=list)
    value: Any = None

    def __repr__(self):  # pragma: no cover - debugging aid
        return f"{self.kind}({self.value!r}, {self.args!r})" if self.value is not None else f"{self.kind}{self.args!r}"


class _Parser:
    def __init__(self, toks: list[_Tok], source: str):
        self.t, self.i, self.src = toks, 0, source

    # helpers -----------------------------------------------------------
    def peek(self, k=0):
        j = self.i + k
        return self.t[j] if j < len(self.t) else _Tok("end", "")

    def next(self):
        tok = self.peek()
        self.i += 1
        return tok

    def expect(self, text):
        tok = self.next()
        if tok.text != text:
            raise FormulaError(f"expected {text!r}, found {tok.text!r} in {self.src!r}")
        return tok

    def at(self, *texts):
        return self.peek().text in texts

    # grammar -----------------------------------------------------------
    def chain(self):
        members, rels = [self.expr()], []
        while self.peek().text in _RELATIONS:
            rels.append(_RELATIONS[self.next().text])
            members.append(self.expr())
        return members, rels

    def expr(self):
        node = self.term()
        while self.at("+", "-"):
            op = self.next().text
            rhs = self.term()
            node = Node("add", [node, rhs if op == "+" else Node("neg", [rhs])])
        return node

    def _starts_factor(self):
        tok = self.peek()
        if tok.kind in ("num", "sym", "esc"):
            return tok.kind != "esc" or tok.text == r"\{"
        if tok.text in ("(", "[", "{", "|"):
            return tok.text != "|" or not self._closing_bar
        if tok.kind == "cmd":
            if tok.text == r"\Vert" and self._in_norm:
                return False
            return tok.text not in _RELATIONS and tok.text not in (r"\mul", r"\odot", r"\dots",
                                                                   r"\ldots", r"\cdots", r"\qquad",
                                                                   r"\text", r"\to", r"\end")
        return False

    _closing_bar = False
    _in_norm = 0

    def term(self):
        node = self.unary()
        while True:
            if self.at(r"\mul"):
                self.next()
                node = Node("mul", [node, self.unary()])
            elif self.at("/"):
                self.next()
                node = Node("div", [node, self.unary()])
            elif self.at(r"\odot"):
                self.next()
                node = Node("hadamard", [node, self.unary()])
            elif self._starts_factor():
                node = Node("mul", [node, self.unary()])
            else:
                return node

    def unary(self):
        if self.at("-"):
            self.next()
            return Node("neg", [self.unary()])
        if self.at("+"):
            self.next()
            return self.unary()
        return self.postfix()

    def group(self):
        """{ ... } as an expression (braces only group)."""
        self.expect("{")
        node = self.expr()
        self.expect("}")
        return node

    def script(self):
        """The argument of ^ or _: a braced group or a single token."""
        if self.at("{"):
            start = self.i
            depth = 0
            while True:
                tok = self.next()
                if tok.text == "{":
                    depth += 1
                elif tok.text == "}":
                    depth -= 1
                    if depth == 0:
                        break
                elif tok.kind == "end":
                    raise FormulaError(f"unbalanced braces in {self.src!r}")
            return self.t[start + 1:self.i - 1]
        tok = self.next()
        return [tok]

    def postfix(self):
        node = self.atom()
        while True:
            if self.at("_"):
                self.next()
                node = Node("sub", [node], self.script())
            elif self.at("^"):
                self.next()
                sup = self.script()
                if len(sup) == 1 and sup[0].kind == "top":
                    node = Node("transpose", [node])
                else:
                    node = Node("sup", [node], sup)
            elif self.at("'"):
                self.next()
                if node.kind != "sym":
                    raise FormulaError(f"prime on a non-symbol in {self.src!r}")
                node = Node("sym", [], node.value + "'")
            elif self.at("(") and node.kind in ("sym", "sub", "sup") and not self._no_call:
                # f(x): a call if the symbol names a function at evaluation time
                self.next()
                args = [self.expr()]
                while self.at(","):
                    self.next()
                    args.append(self.expr())
                self.expect(")")
                transposed = self.peek(1).kind == "top" or (self.peek(1).text == "{"
                                                            and self.peek(2).kind == "top")
                if self.at("^") and len(args) == 1 and not transposed:
                    # a_i (v_i - c)^2: a product with a power, not a call raised to it
                    sup_node = Node("paren", [args[0]])
                    self.next()
                    sup = self.script()
                    node = Node("apply_or_mul_pow", [node, sup_node], sup)
                    continue
                node = Node("apply", [node] + args)
            else:
                return node

    _no_call = False

    def atom(self):
        tok = self.next()
        if tok.kind == "num":
            return Node("num", [], float(tok.text))
        if tok.kind == "sym":
            return Node("sym", [], tok.text)
        if tok.text in ("(", "["):
            close = ")" if tok.text == "(" else "]"
            first = self.expr()
            if close == "]" and self.peek().text in _RELATIONS:
                rel = _RELATIONS[self.next().text]
                second = self.expr()
                self.expect("]")
                return Node("iverson", [first, second], rel)
            if self.at(","):
                items = [first]
                while self.at(","):
                    self.next()
                    items.append(self.expr())
                self.expect(close)
                return Node("tuple", items)
            self.expect(close)
            return Node("paren", [first])
        if tok.text == "{":
            node = self.expr()
            self.expect("}")
            return node
        if tok.text == "|":
            saved = self._closing_bar
            self._closing_bar = True
            node = self.expr()
            self._closing_bar = saved
            self.expect("|")
            return Node("abs", [node])
        if tok.kind != "cmd":
            raise FormulaError(f"unexpected {tok.text!r} in {self.src!r}")
        name = tok.text
        if name == r"\frac":
            return Node("div", [self.group(), self.group()])
        if name == r"\sqrt":
            return Node("call", [self.group()], np.sqrt)
        if name == r"\Vert":
            self._in_norm += 1
            node = self.expr()
            self._in_norm -= 1
            self.expect(r"\Vert")
            if self.at("_"):          # \lVert v \rVert_2
                self.next()
                self.script()
            return Node("norm", [node])
        if name in (r"\mathbf", r"\boldsymbol"):
            inner = self.script()
            text = "".join(t.text for t in inner)
            return Node("sym", [], "1vec" if text == "1" else text)
        if name in (r"\operatorname", r"\mathrm", r"\text", r"\mathcal"):
            inner = self.script()
            return Node("sym", [], "".join(t.text for t in inner))
        if name in (r"\bar", r"\hat", r"\tilde"):
            inner = self.script()
            return Node("sym", [], name[1:] + " " + "".join(t.text for t in inner))
        if name in (r"\sum", r"\prod"):
            return self.big_operator(name)
        if name in (r"\max", r"\min"):
            return self.extremum(name)
        if name in _FUNCS and name not in _GREEK:
            return self.function(name)
        if name == r"\begin":
            return self.environment()
        if name in _GREEK:
            return Node("sym", [], name[1:])
        raise FormulaError(f"unsupported LaTeX {name!r} in {self.src!r}")

    def function(self, name):
        if self.at("^"):
            raise FormulaError(f"powers of functions ({name}^...) are ambiguous in {self.src!r}")
        if self.at("("):
            self.next()
            arg = self.expr()
            self.expect(")")
            return Node("call", [arg], _FUNCS[name])
        # \log x, \log \sum_k ..., \log \frac{..}{..}: the argument is one term
        return Node("call", [self.term_no_add()], _FUNCS[name])

    def term_no_add(self):
        return self.term()

    def _index_spec(self, toks):
        """Parse the subscript of a sum or max: k=1, k, k \\ne c, i: w_i = w."""
        p = _Parser(toks, self.src)
        var = p.next()
        if var.kind != "sym" and var.text not in ("t", ):
            raise FormulaError(f"sum index {var.text!r} in {self.src!r}")
        name = var.text
        if p.at("'"):
            p.next()
            name += "'"
        spec = {"var": name, "lo": None, "hi": None, "exclude": None, "cond": None}
        if p.at("="):
            p.next()
            spec["lo"] = p.expr()
            if p.at(","):  # i = 1, \dots, K
                p.next()
                while p.at(r"\dots", r"\ldots", ","):
                    p.next()
                spec["hi"] = p.expr()
        elif p.at(r"\ne", r"\neq"):
            p.next()
            spec["exclude"] = p.expr()
        elif p.at(">", "<", r"\ge", r"\geq", r"\le", r"\leq"):
            rel = _RELATIONS.get(p.next().text, None) or p.t[p.i - 1].text
            bound = p.expr()
            one = Node("num", [], 1.0)
            if rel == ">":
                spec["lo"] = Node("add", [bound, one])
            elif rel == ">=":
                spec["lo"] = bound
            elif rel == "<":
                spec["hi"] = Node("add", [bound, Node("neg", [one])])
            else:
                spec["hi"] = bound
        elif p.at(":"):
            p.next()
            members, rels = p.chain()
            if rels != ["="] or len(members) != 2:
                raise FormulaError(f"sum condition in {self.src!r}")
            spec["cond"] = members
        if p.peek().kind != "end":
            raise FormulaError(f"cannot read the range {''.join(t.text for t in toks)!r}")
        return spec

    def big_operator(self, name):
        spec = {"var": None}
        if self.at("_"):
            self.next()
            spec = self._index_spec(self.script())
        if self.at("^"):
            self.next()
            spec["hi"] = _Parser(self.script(), self.src).expr()
        body = self.term()
        return Node("sum" if name == r"\sum" else "prod", [body], spec)

    def extremum(self, name):
        fn = np.max if name == r"\max" else np.min
        if self.at("_"):
            self.next()
            spec = self._index_spec(self.script())
            body = self.postfix_only()
            return Node("reduce", [body], (fn, spec))
        self.expect("(")
        args = [self.expr()]
        while self.at(","):
            self.next()
            args.append(self.expr())
        self.expect(")")
        return Node("extremum", args, fn)

    def postfix_only(self):
        # \max_i z_i - z_y: the body is z_i (one factor), or a parenthesised group
        return self.postfix()

    def environment(self):
        env = "".join(t.text for t in self.script())
        rows, row = [], []
        depth = 0
        while True:
            tok = self.peek()
            if tok.kind == "end":
                raise FormulaError(f"\\begin{{{env}}} without \\end in {self.src!r}")
            if tok.text == r"\end" and depth == 0:
                self.next()
                self.script()
                break
            if tok.text == r"\begin":
                depth += 1
            if tok.text == r"\end":
                depth -= 1
            if tok.kind == "rowsep" and depth == 0:
                rows.append(row)
                row = []
                self.next()
                continue
            row.append(self.next())
        if row:
            rows.append(row)
        if env == "cases":
            pieces = []
            for r in rows:
                cells = _split(r, "&")
                if len(cells) != 2:
                    raise FormulaError(f"a cases row needs 'value, & condition' in {self.src!r}")
                value = cells[0]
                if value and value[-1].text == ",":
                    value = value[:-1]
                pieces.append((_Parser(value, self.src).full_expr(), cells[1]))
            return Node("cases", [], [(v, self._condition(c)) for v, c in pieces])
        raise FormulaError(f"environment {env!r} inside an expression in {self.src!r}")

    def _condition(self, toks):
        text = "".join(t.text for t in toks).strip()
        if text in ("otherwise", r"\text{otherwise}") or (len(toks) > 1 and toks[0].text == r"\text"
                                                            and "otherwise" in text):
            return None
        p = _Parser(toks, self.src)
        members, rels = p.chain()
        if len(members) != 2:
            raise FormulaError(f"case condition {text!r} in {self.src!r}")
        return (members, rels)

    def full_expr(self):
        node = self.expr()
        if self.peek().kind != "end":
            raise FormulaError(f"unexpected {self.peek().text!r} in {self.src!r}")
        return node


def _split(toks, sep):
    parts, cur, depth = [], [], 0
    for t in toks:
        if t.text in ("{", "(", "["):
            depth += 1
        elif t.text in ("}", ")", "]"):
            depth -= 1
        if t.text == sep and depth == 0:
            parts.append(cur)
            cur = []
        else:
            cur.append(t)
    parts.append(cur)
    return parts


# --------------------------------------------------------------------------
# Statements: a display is one or more chains
# --------------------------------------------------------------------------

@dataclass
class Chain:
    """``members[0] rels[0] members[1] ...`` with the LaTeX it came from."""

    members: list
    rels: list
    tex: str


def parse(tex: str, *, rewrite: list[tuple[str, str]] | None = None) -> list[Chain]:
    """Parse a display into chains.

    ``aligned`` rows that start with a relation continue the previous row's
    chain; statements separated by ``\\qquad`` are separate chains, and a
    statement that only declares a range (``j = 1, \\dots, K``) or a
    condition (``\\text{if} ...``) is dropped.
    """
    for old, new in rewrite or []:
        if old not in tex:
            raise FormulaError(f"rewrite {old!r} does not occur in the formula")
        tex = tex.replace(old, new)
    body = tex.strip()
    m = re.fullmatch(r"\\begin\{(aligned|align\*?|gathered)\}(.*)\\end\{\1\}", body, re.S)
    rows = re.split(r"\\\\", m.group(2)) if m else [body]
    statements: list[str] = []
    for row in rows:
        row = (row.replace("&", " ") if m else row).strip()
        if not row:
            continue
        for piece in re.split(r"\\qquad", row):
            piece = piece.strip().rstrip(".,;").strip()
            if not piece or re.fullmatch(r"(\\text\{[^}]*\}\s*)+", piece):
                continue
            if re.fullmatch(r"\s*[a-zA-Z]\s*=\s*[^,]+,\s*\\[lc]?dots\s*,\s*[^,]+", piece) or \
                    re.match(r"\s*(\\text\{\s*(if|for|where|with|i\.e\.)|\\(text|mathrm)\{\s*(if|for)\b)", piece):
                continue  # a range declaration (j = 1, ..., K) or a condition, not a claim
            if statements and re.match(r"\s*(=|<|>|\\le|\\ge|\\approx)", _normalise(piece)):
                statements[-1] += " " + piece
            else:
                statements.append(piece)
    chains = []
    for st in statements:
        p = _Parser(_tokens(st), st)
        members, rels = p.chain()
        if p.peek().kind != "end":
            raise FormulaError(f"unexpected {p.peek().text!r} in {st!r}")
        chains.append(Chain(members, rels, st))
    return chains


# --------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------

class _Row:
    """A transposed vector."""

    def __init__(self, v):
        self.v = np.asarray(v, dtype=float)


def _is_vec(x):
    return isinstance(x, np.ndarray) and x.ndim == 1


def _mul(x, y):
    if isinstance(x, _Row):
        if _is_vec(y):
            return float(x.v @ y)
        if isinstance(y, np.ndarray) and y.ndim == 2:
            return _Row(x.v @ y)
        return _Row(x.v * y)
    if isinstance(y, _Row):
        if _is_vec(x):
            return np.outer(x, y.v)
        if np.ndim(x) == 0:
            return _Row(x * y.v)
        raise FormulaError("a matrix times a row vector")
    if isinstance(x, np.ndarray) and x.ndim == 2 and isinstance(y, np.ndarray) and y.ndim >= 1:
        return x @ y
    if _is_vec(x) and _is_vec(y):
        raise FormulaError("two column vectors side by side (use \\odot or a transpose)")
    return x * y


class _Scope:
    def __init__(self, values: dict, indices: dict):
        self.values = values
        self.idx = dict(indices)

    def lookup(self, name):
        if name in self.idx:
            return self.idx[name]
        if name in self.values:
            return self.values[name]
        if name == "e":
            return math.e
        if name == "1vec":
            return np.ones(int(self.lookup("K")))
        if name == "pi":
            return math.pi
        raise FormulaError(f"no value for {name!r}")


def _sub_text(toks):
    return "".join(t.text for t in toks)


def _eval(node: Node, s: _Scope):
    k = node.kind
    if k == "num":
        return node.value
    if k == "sym":
        return s.lookup(node.value)
    if k == "paren":
        return _eval(node.args[0], s)
    if k == "tuple":
        return tuple(_eval(a, s) for a in node.args)
    if k == "add":
        return _eval(node.args[0], s) + _eval(node.args[1], s)
    if k == "neg":
        x = _eval(node.args[0], s)
        return _Row(-x.v) if isinstance(x, _Row) else -x
    if k == "mul":
        return _mul(_eval(node.args[0], s), _eval(node.args[1], s))
    if k == "hadamard":
        return np.asarray(_eval(node.args[0], s)) * np.asarray(_eval(node.args[1], s))
    if k == "div":
        return _eval(node.args[0], s) / _eval(node.args[1], s)
    if k == "iverson":
        a, b = (_eval(x, s) for x in node.args)
        return 1.0 if _relation_holds(node.value, a, b, 0.0) else 0.0
    if k == "abs":
        return np.abs(_eval(node.args[0], s))
    if k == "norm":
        return float(np.linalg.norm(_eval(node.args[0], s)))
    if k == "transpose":
        x = _eval(node.args[0], s)
        if _is_vec(x):
            return _Row(x)
        if isinstance(x, np.ndarray) and x.ndim == 2:
            return x.T
        raise FormulaError("transpose of a scalar")
    if k == "call":
        return node.value(_eval(node.args[0], s))
    if k == "extremum":
        return node.value([_eval(a, s) for a in node.args])
    if k == "sub":
        return _subscript(node, s)
    if k == "sup":
        return _superscript(node, s)
    if k == "apply":
        f = _eval(node.args[0], s) if node.args[0].kind != "sym" or _has(s, node.args[0].value) else None
        if callable(f):
            return f(*[_eval(a, s) for a in node.args[1:]])
        if f is None and node.args[0].kind == "sym":
            raise FormulaError(f"no value for the function {node.args[0].value!r}")
        args = [_eval(a, s) for a in node.args[1:]]
        if len(args) != 1:
            raise FormulaError("a product with a tuple")
        return _mul(f, args[0])
    if k == "apply_or_mul_pow":
        base = node.args[0]
        f = _eval(base, s) if base.kind != "sym" or _has(s, base.value) else None
        exponent = _eval(_Parser(node.value, "").full_expr(), s)
        inner = _eval(node.args[1], s)
        if callable(f):
            return np.asarray(f(inner)) ** exponent
        return _mul(f, np.asarray(inner) ** exponent)
    if k in ("sum", "prod"):
        terms = [_eval(node.args[0], s2) for s2 in _range(node.value, s)]
        if k == "sum":
            return sum(terms[1:], terms[0]) if terms else 0.0
        return math.prod(terms)
    if k == "reduce":
        fn, spec = node.value
        return fn([_eval(node.args[0], s2) for s2 in _range(spec, s)])
    if k == "cases":
        for value, cond in node.value:
            if cond is None or _holds(cond, s):
                return _eval(value, s)
        raise FormulaError("no case applies")
    raise FormulaError(f"cannot evaluate {k}")


def _has(s, name):
    try:
        s.lookup(name)
        return True
    except FormulaError:
        return False


def _holds(cond, s):
    members, rels = cond
    vals = [_eval(m, s) for m in members]
    return all(_relation_holds(r, a, b, 0.0) for r, a, b in zip(rels, vals, vals[1:]))


def _range(spec, s):
    var = spec["var"]
    if var is None:
        raise FormulaError("a sum without an index")
    lo = 1 if spec.get("lo") is None else int(round(_eval(spec["lo"], s)))
    hi = int(round(_eval(spec["hi"], s))) if spec.get("hi") is not None else None
    if hi is None:
        hi = int(s.lookup(f"range {var}")[1]) if _has(s, f"range {var}") else int(s.lookup("K"))
        if _has(s, f"range {var}"):
            lo = int(s.lookup(f"range {var}")[0])
    excl = None if spec.get("exclude") is None else int(round(_eval(spec["exclude"], s)))
    for val in range(lo, hi + 1):
        if val == excl:
            continue
        inner = _Scope(s.values, {**s.idx, var: val})
        if spec.get("cond") is not None:
            a, b = (_eval(m, inner) for m in spec["cond"])
            if not np.all(np.asarray(a) == np.asarray(b)):
                continue
        yield inner


def _index_values(toks, s):
    """Subscript tokens -> tuple of integer indices (``ij``, ``i,j``, ``t-1``)."""
    if any(t.text == "," for t in toks):
        return tuple(int(round(_eval(_Parser(part, "").full_expr(), s))) for part in _split(toks, ","))
    if all(t.kind == "sym" for t in toks) and len(toks) > 1:
        return tuple(int(s.lookup(t.text)) for t in toks)
    return (int(round(_eval(_Parser(toks, "").full_expr(), s))),)


def _subscript(node, s):
    base, toks = node.args[0], node.value
    text = _sub_text(toks)
    if base.kind == "sym":
        named = f"{base.value}_{text}"
        if base.value == "delta":
            i, j = _index_values(toks, s)
            return 1.0 if i == j else 0.0
        if _has(s, named):
            return s.lookup(named)
        if not any(t.kind in ("sym", "num") for t in toks) or toks[0].text in (r"\text", r"\mathrm",
                                                                                r"\operatorname"):
            raise FormulaError(f"no value for {named!r}")
    obj = _eval(base, s)
    if callable(obj):
        return lambda *args: obj(*args, _sub=_index_values(toks, s))
    idx = _index_values(toks, s)
    arr = np.asarray(obj)
    try:
        return arr[tuple(i - 1 for i in idx)] if _one_based(base, s) else arr[idx]
    except IndexError as exc:
        raise FormulaError(f"index {idx} out of range for {base!r}") from exc


def _one_based(base, s):
    if base.kind == "sym" and _has(s, f"zero-based {base.value}"):
        return False
    return True


def _superscript(node, s):
    base, toks = node.args[0], node.value
    text = _sub_text(toks)
    if base.kind == "sym" and _has(s, f"{base.value}^{text}"):
        return s.lookup(f"{base.value}^{text}")
    if base.kind == "sym" and _has(s, f"{base.value}^"):
        table = s.lookup(f"{base.value}^")
        key = int(round(_eval(_Parser(toks, "").full_expr(), s)))
        return table[key]
    if base.kind == "sub" and node.args[0].args[0].kind == "sym":
        # a_i^t: superscript table indexed first
        name = node.args[0].args[0].value
        if _has(s, f"{name}^"):
            table = s.lookup(f"{name}^")
            key = int(round(_eval(_Parser(toks, "").full_expr(), s)))
            i = _index_values(node.args[0].value, s)
            return np.asarray(table[key])[tuple(j - 1 for j in i)]
    if text == "*":
        raise FormulaError(f"no value for {base!r}^*")
    return np.asarray(_eval(base, s)) ** _eval(_Parser(toks, "").full_expr(), s) if not isinstance(
        _eval(base, s), _Row) else _raise("power of a row vector")


def _raise(msg):
    raise FormulaError(msg)


def _relation_holds(rel, a, b, rtol, atol=0.0):
    a = a.v if isinstance(a, _Row) else a
    b = b.v if isinstance(b, _Row) else b
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    slack = atol + rtol * np.maximum(np.abs(a), np.abs(b))
    if rel in ("=", "~"):
        return _equal(a, b, rtol, atol)
    if rel == "<":
        return bool(np.all(a < b))
    if rel == "<=":
        return bool(np.all(a <= b + slack))
    if rel == ">":
        return bool(np.all(a > b))
    if rel == ">=":
        return bool(np.all(a >= b - slack))
    if rel == "!=":
        return bool(np.any(np.abs(a - b) > slack))
    raise FormulaError(f"relation {rel}")


def _equal(a, b, rtol, atol):
    a = a.v if isinstance(a, _Row) else a
    b = b.v if isinstance(b, _Row) else b
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.shape != b.shape and a.size != 1 and b.size != 1:
        return False
    return bool(np.all(np.abs(a - b) <= atol + rtol * np.maximum(np.abs(a), np.abs(b))))


def _free_indices(chains, values):
    """Subscript letters bound by no sum and given no value: j in a_j = ..."""
    found: list[str] = []

    def visit(node, bound):
        if not isinstance(node, Node):
            return
        if node.kind in ("sub",) or (node.kind == "sup" and node.args[0].kind in ("sym", "sub")):
            for t in node.value:
                if t.kind == "sym" and t.text not in bound and t.text not in values \
                        and t.text not in found and not _is_named(node, values):
                    found.append(t.text)
        if node.kind in ("sum", "prod", "reduce"):
            spec = node.value if node.kind != "reduce" else node.value[1]
            bound = bound | {spec["var"]}
            for key in ("lo", "hi", "exclude"):
                visit(spec.get(key), bound - {spec["var"]})
            for m in spec.get("cond") or []:
                visit(m, bound)
        for a in node.args:
            visit(a, bound)
        if node.kind == "cases":
            for v, c in node.value:
                visit(v, bound)
                if c:
                    for m in c[0]:
                        visit(m, bound)

    for ch in chains:
        for m in ch.members:
            visit(m, frozenset())
    return found


def _is_named(node, values):
    base = node.args[0]
    if base.kind != "sym":
        return False
    sep = "_" if node.kind == "sub" else "^"
    return f"{base.value}{sep}{_sub_text(node.value)}" in values or base.value == "delta" and False


def evaluate_chain(chain: Chain, values: dict, indices: dict):
    s = _Scope(values, indices)
    return [_eval(m, s) for m in chain.members]


# --------------------------------------------------------------------------
# The notebook side
# --------------------------------------------------------------------------

_DISPLAY = re.compile(r"\$\$(?P<tex>.*?)\$\$(?:[ \t]*\((?P<label>[^)\s]+)\))?", re.S)


def _whitespace(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


class Equations:
    """The displayed formulas of one chapter notebook, checked one by one.

    Parameters
    ----------
    notebook : str
        File name of the chapter notebook (``"01_softmax.ipynb"``), looked
        up in the working directory and in ``chapters/`` below it.
    seed : int
        Seed of the sample values drawn for every check.
    """

    def __init__(self, notebook: str, *, seed: int = 20261204):
        self.path = self._find(notebook)
        nb = json.loads(self.path.read_text(encoding="utf-8"))
        self.markdown = "\n\n".join("".join(c["source"]) for c in nb["cells"]
                                    if c["cell_type"] == "markdown")
        self.displays = {m["label"]: m["tex"].strip() for m in _DISPLAY.finditer(self.markdown)
                         if m["label"]}
        self.seed = seed
        self.checked: dict[str, int] = {}
        self.notations: dict[str, str] = {}

    @staticmethod
    def _find(name):
        for base in (Path.cwd(), Path.cwd() / "chapters", Path.cwd().parent / "chapters"):
            if (base / name).is_file():
                return base / name
        raise FileNotFoundError(f"{name} not found next to the running notebook; "
                                "the formula checks read the notebook's own text")

    def latex(self, label: str) -> str:
        """The LaTeX of the display labelled ``label``, as the reader sees it."""
        try:
            return self.displays[label]
        except KeyError:
            raise KeyError(f"no display labelled {label!r} in {self.path.name}") from None

    def check(self, label: str, expected: Callable | None, values, *, n: int = 5,
              rtol: float = 1e-9, atol: float = 1e-12, approx_rtol: float | None = None,
              rewrite=None, index_range: dict | None = None) -> int:
        """Check the display ``label`` (numbered equation) against ``expected``.

        Parameters
        ----------
        label : str
            The equation's label, e.g. ``"eq-softmax"``.
        expected : callable or None
            ``expected(v)`` returns the notebook's result (lambdified SymPy or
            a library call) for the sample values ``v`` (which include the
            free indices such as ``v["j"]``).  Every ``=`` member of every
            chain must equal it; ``None`` when the display makes no claim of
            its own beyond its chain (each member must then equal the next).
        values : callable or list of dict
            ``values(rng)`` returns a dict of sample values (a fresh draw per
            trial), or a list of such dicts.
        n : int
            Number of draws when ``values`` is callable.
        approx_rtol : float, optional
            Relative tolerance for ``\\approx`` links; without it a display
            with ``\\approx`` is refused.
        rewrite : list of (str, str), optional
            Explicit text substitutions applied before parsing, for notation
            the grammar does not read; each must occur in the formula.
        index_range : dict, optional
            ``{"t": (0, 3)}``: the range of a free index other than ``1..K``.

        Returns
        -------
        int
            The number of comparisons made.
        """
        tex = self.latex(label)
        count = self._check_tex(tex, expected, values, n, rtol, atol, approx_rtol, rewrite,
                                index_range, where=label)
        self.checked[label] = count
        return count

    def check_text(self, tex: str, expected: Callable | None, values, **kw) -> int:
        """Check a formula given by its exact text (a formula in a solution).

        The text must occur in the notebook's markdown (whitespace aside), so
        editing the formula the reader sees without editing its check fails.
        """
        if _whitespace(tex) not in _whitespace(self.markdown):
            raise FormulaMismatch(f"the formula {tex!r} does not occur in {self.path.name}")
        count = self._check_tex(tex, expected, values, kw.pop("n", 5), kw.pop("rtol", 1e-9),
                                kw.pop("atol", 1e-12), kw.pop("approx_rtol", None),
                                kw.pop("rewrite", None), kw.pop("index_range", None), where=tex)
        if kw:
            raise TypeError(f"unexpected arguments {sorted(kw)}")
        self.checked[tex] = count
        return count

    def notation(self, tex: str, why: str) -> None:
        """Declare a formula in a solution to be notation or a setting, not a claim.

        The text must occur in the notebook's markdown, and ``why`` must say
        why there is nothing to check (it is read by reviewers).
        """
        if _whitespace(tex) not in _whitespace(self.markdown):
            raise FormulaMismatch(f"the formula {tex!r} does not occur in {self.path.name}")
        if len(why.split()) < 2:
            raise ValueError("why: say in a few words why the formula is not a claim")
        self.notations[tex] = why

    def _check_tex(self, tex, expected, values, n, rtol, atol, approx_rtol, rewrite, index_range,
                   where):
        chains = parse(tex, rewrite=rewrite)
        if not chains:
            raise FormulaError(f"{where}: nothing to check")
        rng = np.random.default_rng(self.seed)
        draws = [values(rng) for _ in range(n)] if callable(values) else list(values)
        count = 0
        for v in draws:
            v = dict(v)
            for name, r in (index_range or {}).items():
                v[f"range {name}"] = r
            free = _free_indices(chains, v)
            ranges = []
            for name in free:
                lo, hi = (index_range or {}).get(name, (1, int(v["K"])))
                ranges.append(range(lo, hi + 1))
            for combo in itertools.product(*ranges) if free else [()]:
                idx = dict(zip(free, combo))
                full = {**v, **idx}
                want = None if expected is None else expected(full)
                for ch in chains:
                    got = evaluate_chain(ch, v, idx)
                    for rel, a, b in zip(ch.rels, got, got[1:]):
                        if rel == "~":
                            if approx_rtol is None:
                                raise FormulaError(f"{where}: '\\approx' needs approx_rtol")
                            ok = _equal(a, b, approx_rtol, atol)
                        elif rel == "=":
                            ok = _equal(a, b, rtol, atol)
                        else:
                            ok = _relation_holds(rel, a, b, rtol, atol)
                        if not ok:
                            raise FormulaMismatch(
                                f"{where}: {ch.tex!r} fails at {_show(full)}: "
                                f"{_short(a)} {rel} {_short(b)} is false")
                        count += 1
                    if want is not None:
                        eq_members = _equal_members(ch)
                        for m in eq_members:
                            if not _equal(got[m], want, rtol, atol):
                                raise FormulaMismatch(
                                    f"{where}: member {m} of {ch.tex!r} is {_short(got[m])}, "
                                    f"the notebook's result is {_short(want)} at {_show(full)}")
                            count += 1
        return count


def _equal_members(ch: Chain) -> list[int]:
    """Members joined by '=' to the first member (the claim's two sides)."""
    out = [0]
    if not ch.rels:
        return out  # a bare expression: the expression itself is the claim
    for i, rel in enumerate(ch.rels):
        if rel != "=":
            break
        out.append(i + 1)
    return out if len(out) > 1 else []


def _short(x):
    x = x.v if isinstance(x, _Row) else x
    try:
        return np.array2string(np.asarray(x, dtype=float), precision=6, threshold=6)
    except (TypeError, ValueError):
        return repr(x)[:60]


def _show(v):
    return "{" + ", ".join(f"{k}={_short(x) if not callable(x) else 'fn'}" for k, x in v.items()
                           if not k.startswith(("range ", "zero-based "))) + "}"
