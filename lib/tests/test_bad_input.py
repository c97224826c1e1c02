"""Bad input, everywhere: one table over every public function.

Each row of ``TABLE`` is one public function (``smoothmax.__all__`` plus the
public API of ``smoothmax.widgets``) with a *valid* call, spelt out argument
by argument, and for each argument the *bad* values it must refuse.  The
tests replace one argument at a time by a bad value and require

* the documented exception type: ``TypeError`` for a value of the wrong
  kind (strings, objects, None, complex numbers, booleans, a float where an
  integer is required), ``ValueError`` for a value of the right kind but a bad
  value (NaN or infinities where they mean nothing, empty arrays, wrong
  shapes, out-of-range labels and parameters);
* a message that names the argument (the name appears as a word in it).

What *is* meaningful is accepted and checked to give no NaN: ``-inf`` logits
mask a class (softmax & co., the losses, ``smooth_max``), ``scale = +inf``
gives the NormFace bound 0, empty arrays are fine for the elementwise
functions (``optimal_logit_gap``, the NormFace functions, ``smooth_labels``),
which follow NumPy's broadcasting.

A meta-test makes a new public function without a row fail.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import smoothmax as sm  # noqa: E402
from smoothmax import widgets  # noqa: E402

NAN, INF = math.nan, math.inf


@dataclass(frozen=True)
class Bad:
    label: str
    value: Any
    exc: type


class Fresh:
    """A value built anew for every call (``render_png`` closes its figure)."""

    def __init__(self, make):
        self.make = make

    def __repr__(self):
        return f"Fresh({getattr(self.make, '__name__', 'value')})"


def _resolve(value):
    return value.make() if isinstance(value, Fresh) else value


@dataclass
class Row:
    name: str                      # "softmax", "widgets.slider", ...
    func: Callable
    valid: dict                    # argument -> a valid value
    bad: dict                      # argument -> [Bad, ...]
    ok: dict = field(default_factory=dict)   # argument -> [(label, value)] also valid
    call: Callable | None = None   # call(func, kwargs); default func(**kwargs)
    tag: str = ""                  # tells two rows of one function apart

    def __call__(self, **kwargs):
        kw = {k: _resolve(v) for k, v in kwargs.items()}
        if self.call is not None:
            return self.call(self.func, kw)
        return self.func(**kw)


# ---------------------------------------------------------------------------
# Bad values by kind of argument
# ---------------------------------------------------------------------------

def _with(valid, value, index=0):
    """`valid` (an array) with its entry number `index` (flat) set to `value`."""
    a = np.array(valid, dtype=np.float64)
    a.flat[index] = value
    return a


def wrong_kind(valid):
    """Values of the wrong kind for a real array argument: all TypeError."""
    a = np.asarray(valid, dtype=np.float64)
    return [
        Bad("str", "1.0", TypeError),
        Bad("str-array", a.astype(str), TypeError),
        Bad("bytes", b"1.0", TypeError),
        Bad("object-array", a.astype(object), TypeError),
        Bad("None", None, TypeError),
        Bad("complex", a.astype(complex), TypeError),
        Bad("bool", a > a.flat[0], TypeError),
        Bad("dict", {"a": 1.0}, TypeError),
    ]


def logits_bad(valid, empty_shape):
    """Logits: -inf masks a class (allowed), NaN/+inf/empty/0-d/all -inf are not."""
    a = np.asarray(valid, dtype=np.float64)
    masked = a.copy()
    masked[..., :] = -INF           # every slice entirely masked
    return wrong_kind(a) + [
        Bad("nan", _with(a, NAN), ValueError),
        Bad("+inf", _with(a, INF), ValueError),
        Bad("nan-last", _with(a, NAN, -1), ValueError),
        Bad("all-masked", masked, ValueError),
        Bad("empty", np.empty(0), ValueError),
        Bad("empty-classes", np.empty(empty_shape), ValueError),
        Bad("0-d", np.float64(1.0), ValueError),
        Bad("python-scalar", 1.0, ValueError),
        Bad("ragged", [[1.0, 2.0], [3.0]], ValueError),
        Bad("numpy.ma", np.ma.masked_array(a, mask=a > a.flat[0]), TypeError),
    ]


def logits_ok(valid):
    a = np.asarray(valid, dtype=np.float64)
    return [("-inf-masked", _with(a, -INF)), ("int", a.round().astype(np.int64)),
            ("float32", a.astype(np.float32)), ("list", a.tolist())]


def finite_array_bad(valid, wrong_shapes):
    """A real array whose entries must all be finite (no masking meaning)."""
    a = np.asarray(valid, dtype=np.float64)
    return wrong_kind(a) + [
        Bad("nan", _with(a, NAN), ValueError),
        Bad("+inf", _with(a, INF), ValueError),
        Bad("-inf", _with(a, -INF), ValueError),
        Bad("empty", np.empty(0), ValueError),
        Bad("ragged", [[1.0, 2.0], [3.0]], ValueError),
    ] + [Bad(f"shape{s}", np.ones(s), ValueError) for s in wrong_shapes]


def prob_rows_bad(valid, wrong_shapes):
    """Probability vectors along the last axis: finite, >= 0, summing to 1."""
    a = np.asarray(valid, dtype=np.float64)
    not_summing = a.copy()
    not_summing[..., 0] += 0.5
    negative = a.copy()
    negative[..., 1] += negative[..., 0] + 0.5
    negative[..., 0] = -0.5        # still sums to 1
    return finite_array_bad(a, wrong_shapes) + [
        Bad("negative", negative, ValueError),
        Bad("not-summing-to-1", not_summing, ValueError),
        Bad("zeros", np.zeros_like(a), ValueError),
    ]


def axis_bad(ndim):
    return [
        Bad("float", 1.0, TypeError),
        Bad("bool", True, TypeError),
        Bad("None", None, TypeError),
        Bad("str", "-1", TypeError),
        Bad("tuple", (0, 1), TypeError),
        Bad("too-large", ndim, ValueError),
        Bad("too-negative", -ndim - 1, ValueError),
    ]


def positive_scalar_bad():
    """A finite real number > 0 (temperature)."""
    return [
        Bad("zero", 0.0, ValueError),
        Bad("negative", -1.0, ValueError),
        Bad("-0.0", -0.0, ValueError),
        Bad("nan", NAN, ValueError),
        Bad("+inf", INF, ValueError),
        Bad("-inf", -INF, ValueError),
        Bad("array", np.array([1.0, 2.0]), ValueError),
        Bad("empty", np.empty(0), ValueError),
        Bad("str", "1.0", TypeError),
        Bad("None", None, TypeError),
        Bad("complex", 1 + 0j, TypeError),
        Bad("bool", True, TypeError),
        Bad("object-0d", np.array(1.0, dtype=object), TypeError),
        Bad("list", [1.0], TypeError),
    ]


def positive_scalar_ok():
    return [("int", 2), ("numpy", np.float32(0.5)), ("0-d", np.array(3.0)),
            ("tiny", 1e-300), ("huge", 1e300)]


def unit_scalar_bad():
    """A real number in [0, 1] (label smoothing, p_gen)."""
    return [
        Bad("negative", -0.1, ValueError),
        Bad("above-1", 1.5, ValueError),
        Bad("nan", NAN, ValueError),
        Bad("+inf", INF, ValueError),
        Bad("-inf", -INF, ValueError),
        Bad("array", np.array([0.1, 0.2]), ValueError),
        Bad("str", "0.1", TypeError),
        Bad("None", None, TypeError),
        Bad("complex", 0.1 + 0j, TypeError),
        Bad("bool", False, TypeError),
    ]


def unit_scalar_ok():
    return [("zero", 0.0), ("one", 1.0), ("int", 0), ("0-d", np.array(0.25))]


def unit_array_bad():
    """Real numbers in [0, 1], broadcast (eps of optimal_logit_gap)."""
    return [
        Bad("negative", -0.1, ValueError),
        Bad("above-1", 1.5, ValueError),
        Bad("nan", NAN, ValueError),
        Bad("+inf", INF, ValueError),
        Bad("-inf", -INF, ValueError),
        Bad("bad-entry", [0.1, 2.0], ValueError),
        Bad("nan-entry", [0.1, NAN], ValueError),
        Bad("str", "0.1", TypeError),
        Bad("str-array", np.array(["0.1"]), TypeError),
        Bad("None", None, TypeError),
        Bad("complex", 0.1 + 0j, TypeError),
        Bad("bool", False, TypeError),
        Bad("object-array", np.array([0.1], dtype=object), TypeError),
        Bad("ragged", [[0.1, 0.2], [0.3]], ValueError),
    ]


def class_count_array_bad():
    """Whole numbers >= 2, broadcast (num_classes of the elementwise functions)."""
    return [
        Bad("one", 1, ValueError),
        Bad("zero", 0, ValueError),
        Bad("negative", -3, ValueError),
        Bad("fraction", 2.5, ValueError),
        Bad("nan", NAN, ValueError),
        Bad("+inf", INF, ValueError),
        Bad("-inf", -INF, ValueError),
        Bad("bad-entry", [10, 1], ValueError),
        Bad("str", "10", TypeError),
        Bad("None", None, TypeError),
        Bad("complex", 10 + 0j, TypeError),
        Bad("bool", True, TypeError),
        Bad("object-array", np.array([10], dtype=object), TypeError),
        Bad("ragged", [[2, 3], [4]], ValueError),
    ]


def integer_at_least_bad(minimum):
    """A Python/NumPy integer >= minimum (floats are the wrong kind)."""
    return [
        Bad("too-small", minimum - 1, ValueError),
        Bad("negative", -1, ValueError),
        Bad("float", float(minimum + 1), TypeError),
        Bad("nan", NAN, TypeError),
        Bad("+inf", INF, TypeError),
        Bad("str", str(minimum + 1), TypeError),
        Bad("None", None, TypeError),
        Bad("bool", True, TypeError),
        Bad("complex", complex(minimum + 1), TypeError),
        Bad("array", np.array([minimum + 1, minimum + 2]), TypeError),
    ]


def choice_bad():
    return [
        Bad("unknown", "bogus", ValueError),
        Bad("empty", "", ValueError),
        Bad("case", "MEAN_OR_UNIFORM", ValueError),
        Bad("int", 1, TypeError),
        Bad("None", None, TypeError),
        Bad("bytes", b"uniform", TypeError),
    ]


def index_target_bad(valid, K):
    """Integer class indices in [0, K) of a given shape."""
    t = np.asarray(valid)
    neg = t.copy()
    neg.flat[0] = -1
    big = t.copy()
    big.flat[-1] = K
    return [
        Bad("negative", neg, ValueError),
        Bad("equal-K", big, ValueError),
        Bad("huge", np.full_like(t, 2**62), ValueError),
        Bad("wrong-shape", np.append(t, 0), ValueError),
        Bad("str", "1", TypeError),
        Bad("str-array", t.astype(str), TypeError),
        Bad("None", None, TypeError),
        Bad("object-array", t.astype(object), TypeError),
        Bad("complex", t.astype(complex), TypeError),
        Bad("bool", t > 0, TypeError),
        Bad("ragged", [[1, 2], [3]], ValueError),
    ]


# ---------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------

Z = np.array([[1.0, 2.0, 3.0, 4.0], [0.5, -1.0, 2.0, 0.0]])       # K = 4, 2 samples
V = np.array([[0.3, -1.0, 2.0, 0.5], [1.0, 0.0, -2.0, 4.0]])
Y = np.array([[0.0, 0.0, 0.5, 0.5], [0.25, 0.25, 0.25, 0.25]])   # probability rows
ATTN = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.0, 0.2, 0.8]])
TEMPERATURE_BAD = positive_scalar_bad()
ZBAD = logits_bad(Z, (2, 0))
TABLE: list[Row] = []

for _f in (sm.logsumexp, sm.softmax, sm.log_softmax, sm.smooth_max):
    _valid = {"z": Z, "axis": -1}
    _bad = {"z": ZBAD, "axis": axis_bad(2)}
    _ok = {"z": logits_ok(Z), "axis": [("axis-0", 0), ("numpy-int", np.int64(1))]}
    _ok["z"] = _ok["z"] + [("empty-batch", np.empty((0, 4)))]
    if _f is not sm.logsumexp:
        _valid["temperature"] = 0.7
        _bad["temperature"] = TEMPERATURE_BAD
        _ok["temperature"] = positive_scalar_ok()
    else:
        _valid["keepdims"] = False
        _bad["keepdims"] = [Bad("int", 1, TypeError), Bad("str", "yes", TypeError),
                            Bad("None", None, TypeError)]
        _ok["keepdims"] = [("True", True), ("numpy-bool", np.True_)]
    TABLE.append(Row(_f.__name__, _f, _valid, _bad, _ok))

TABLE += [
    Row("softmax_jacobian", sm.softmax_jacobian,
        {"z": Z, "temperature": 0.7},
        {"z": ZBAD, "temperature": TEMPERATURE_BAD},
        {"z": logits_ok(Z) + [("empty-batch", np.empty((0, 4)))],
         "temperature": positive_scalar_ok()}),
    Row("softmax_jvp", sm.softmax_jvp,
        {"z": Z, "v": V, "temperature": 0.7},
        {"z": ZBAD, "v": finite_array_bad(V, [(3,), (2, 3), (3, 4, 4)]),
         "temperature": TEMPERATURE_BAD},
        {"z": logits_ok(Z), "temperature": positive_scalar_ok(),
         "v": [("int", V.round().astype(int)), ("broadcast-row", V[0]),
               ("broadcast-batch", np.stack([V, V]))]}),
]

# the losses: index targets and probability targets
_LOSS_BAD = {
    "logits": logits_bad(Z, (2, 0)),
    "label_smoothing": unit_scalar_bad(),
    "convention": choice_bad(),
    "axis": axis_bad(2),
}
_LOSS_OK = {"logits": logits_ok(Z), "label_smoothing": unit_scalar_ok(),
            "convention": [("others", "others")], "axis": [("numpy-int", np.int64(-1))]}
for _f in (sm.cross_entropy, sm.cross_entropy_grad):
    _valid = {"logits": Z, "target": np.array([1, 3]), "label_smoothing": 0.1,
              "convention": "uniform", "axis": -1}
    _bad = dict(_LOSS_BAD, target=index_target_bad([1, 3], 4) + [
        Bad("float-indices", np.array([1.0, 3.0]), ValueError),
        Bad("fraction", np.array([1.5, 2.5]), ValueError),
        Bad("nan", np.array([NAN, 1.0]), ValueError),
        Bad("scalar", 1, ValueError),
    ])
    _ok = dict(_LOSS_OK, target=[("uint8", np.array([1, 3], dtype=np.uint8)),
                                 ("list", [0, 2])])
    _valid["reduction"] = "mean"
    _bad["reduction"] = choice_bad()
    _ok["reduction"] = [("none", "none"), ("sum", "sum")]
    TABLE.append(Row(_f.__name__, _f, _valid, _bad, _ok, tag="index target"))
    _valid = dict(_valid, target=Y)
    _bad = dict(_bad, convention=choice_bad() + [Bad("others-with-probabilities", "others",
                                                     ValueError)],
                target=prob_rows_bad(Y, [(4,), (2, 3), (1, 2, 4)]))
    _ok = dict(_ok, convention=[], target=[("one-hot", np.eye(4)[[1, 3]])])
    TABLE.append(Row(_f.__name__, _f, _valid, _bad, _ok, tag="probability target"))

TABLE += [
    Row("smooth_labels", sm.smooth_labels,
        {"target": np.array([2, 0, 1]), "num_classes": 4, "eps": 0.1, "convention": "uniform"},
        {"target": index_target_bad([2, 0, 1], 4)[:3] + [
            b for b in index_target_bad([2, 0, 1], 4)
            if b.exc is TypeError or b.label == "ragged"] + [
            Bad("float", np.array([2.0, 0.0]), TypeError),
            Bad("nan", NAN, TypeError)],
         "num_classes": integer_at_least_bad(2),
         "eps": unit_scalar_bad(),
         "convention": choice_bad()},
        {"target": [("scalar", 2), ("empty", np.array([], dtype=int)), ("2-d", [[0, 1]])],
         "num_classes": [("numpy-int", np.int64(4))], "eps": unit_scalar_ok(),
         "convention": [("others", "others")]}),
    Row("optimal_logit_gap", sm.optimal_logit_gap,
        {"eps": np.array([0.05, 0.1]), "num_classes": np.array([10, 100]),
         "convention": "uniform"},
        {"eps": unit_array_bad() + [Bad("shape-mismatch", np.ones(3) * 0.5, ValueError)],
         "num_classes": class_count_array_bad() + [Bad("shape-mismatch", [2, 3, 4], ValueError)],
         "convention": choice_bad()},
        {"eps": [("zero", 0.0), ("one", 1.0), ("empty", np.empty((0, 1))), ("int", 1)],
         "num_classes": [("float-whole", 10.0), ("column", [[2], [1000]])],
         "convention": [("others", "others")]}),
]

for _f in (sm.coverage, sm.coverage_loss, sm.coverage_loss_grad):
    TABLE.append(Row(_f.__name__, _f, {"attn": ATTN},
                     {"attn": prob_rows_bad(ATTN, [(3,), ()])},
                     {"attn": [("batched", np.stack([ATTN, ATTN])), ("one-step", ATTN[:1]),
                               ("int", np.eye(3, dtype=int))]}))

_AWC = {  # source_len 3, enc_dim 2, dec_dim 2, attn_dim 4
    "encoder_states": np.arange(6.0).reshape(3, 2) / 6,
    "decoder_state": np.array([0.5, -0.5]),
    "coverage": np.array([0.0, 1.0, 0.5]),
    "W_h": np.ones((4, 2)) * 0.1,
    "W_s": np.ones((4, 2)) * -0.2,
    "w_c": np.array([0.0, -5.0, 1.0, 2.0]),
    "v": np.array([1.0, 1.0, -1.0, 0.5]),
    "b": np.zeros(4),
}
TABLE.append(Row(
    "attention_with_coverage", sm.attention_with_coverage, _AWC,
    {"encoder_states": finite_array_bad(_AWC["encoder_states"], [(3,), (3, 2, 1), (3, 0), (0, 2)]),
     "decoder_state": finite_array_bad(_AWC["decoder_state"], [(2, 1), ()]),
     "coverage": finite_array_bad(_AWC["coverage"], [(2,), (4,), (3, 1)])
     + [Bad("negative", np.array([0.0, -1.0, 0.5]), ValueError)],
     "W_h": finite_array_bad(_AWC["W_h"], [(4, 3), (2, 4), (4,), (4, 2, 1)]),
     "W_s": finite_array_bad(_AWC["W_s"], [(4, 3), (3, 2), (4,)]),
     "w_c": finite_array_bad(_AWC["w_c"], [(3,), (5,), (4, 1)]),
     "v": finite_array_bad(_AWC["v"], [(4, 1), ()]),
     "b": finite_array_bad(_AWC["b"], [(3,), (5,), (1, 4)])},
    {"coverage": [("int", np.array([0, 1, 0]))],
     "encoder_states": [("int", np.arange(6).reshape(3, 2))]},
))

_PG = {"p_vocab": np.array([0.5, 0.3, 0.2]), "attn": np.array([0.25, 0.25, 0.5]),
       "source_ids": np.array([1, 3, 1]), "p_gen": 0.6, "extended_vocab_size": 4}
TABLE.append(Row(
    "pointer_generator", sm.pointer_generator, _PG,
    {"p_vocab": prob_rows_bad(_PG["p_vocab"], [(), (1, 3)]),
     "attn": prob_rows_bad(_PG["attn"], [(), (1, 3)]),
     "source_ids": [b for b in index_target_bad([1, 3, 1], 4) if b.label != "huge"]
     + [Bad("float", np.array([1.0, 3.0, 1.0]), TypeError),
        Bad("2-d", np.array([[1, 3, 1]]), ValueError)],
     "p_gen": unit_scalar_bad(),
     "extended_vocab_size": integer_at_least_bad(3)},
    {"p_gen": unit_scalar_ok(), "extended_vocab_size": [("equal-vocab", 3)],
     "source_ids": [("repeated", [0, 0, 0])]},
))
# extended_vocab_size = 3 is fine unless an id is 3: the row's source_ids has one
TABLE[-1].ok["extended_vocab_size"] = []

TABLE += [
    Row("normface_loss_bound", sm.normface_loss_bound,
        {"scale": np.array([1.0, 16.0]), "num_classes": np.array([10, 100])},
        {"scale": [
            Bad("zero", 0.0, ValueError), Bad("negative", -1.0, ValueError),
            Bad("nan", NAN, ValueError), Bad("-inf", -INF, ValueError),
            Bad("bad-entry", [1.0, -2.0], ValueError), Bad("nan-entry", [1.0, NAN], ValueError),
            Bad("shape-mismatch", np.ones(3), ValueError),
            Bad("ragged", [[1.0, 2.0], [3.0]], ValueError),
        ] + wrong_kind([1.0, 16.0]),
         "num_classes": class_count_array_bad() + [Bad("shape-mismatch", [2, 3, 4], ValueError)]},
        {"scale": [("+inf", INF), ("empty", np.empty((0, 1))), ("huge", 1e308), ("tiny", 5e-324)],
         "num_classes": [("huge", 2**53), ("column", [[2], [10575]])]}),
    Row("normface_scale_for_probability", sm.normface_scale_for_probability,
        {"prob": np.array([0.5, 0.9]), "num_classes": np.array([10, 100])},
        {"prob": [
            Bad("zero", 0.0, ValueError), Bad("one", 1.0, ValueError),
            Bad("1/K", 0.1, ValueError), Bad("below-1/K", 0.05, ValueError),
            Bad("above-1", 1.5, ValueError), Bad("negative", -0.5, ValueError),
            Bad("nan", NAN, ValueError), Bad("+inf", INF, ValueError),
            Bad("-inf", -INF, ValueError), Bad("bad-entry", [0.5, 1.0], ValueError),
            Bad("shape-mismatch", np.ones(3) * 0.5, ValueError),
            Bad("ragged", [[0.5, 0.6], [0.7]], ValueError),
        ] + wrong_kind([0.5, 0.9]),
         "num_classes": class_count_array_bad() + [Bad("shape-mismatch", [2, 3, 4], ValueError)]},
        {"prob": [("empty", np.empty((0, 1))), ("near-1", 1 - 2**-53)],
         "num_classes": [("float-whole", 10.0)]}),
]


# ---- widgets -------------------------------------------------------------

def _plot(p, c=1.0):
    fig, ax = plt.subplots(figsize=(1, 1))
    ax.plot([0, 1], [0, p * c])
    return fig


def _figure():
    return plt.figure(figsize=(1, 1))


_P = widgets.Param("p", [1.0, 2.0])
_SLIDER_BAD = {
    "plot": [Bad("str", "plot", TypeError), Bad("None", None, TypeError),
             Bad("int", 5, TypeError), Bad("figure-not-function", Fresh(_figure), TypeError),
             Bad("wrong-keywords", lambda q: None, TypeError),
             Bad("missing-keyword", lambda p, q: None, TypeError)],
    "params": [Bad("none", (), ValueError), Bad("str", ("p",), TypeError),
               Bad("None", (None,), TypeError),
               Bad("duplicate", (_P, widgets.Param("p", [3.0])), ValueError)],
    "alt": [Bad("None", None, TypeError), Bad("int", 5, TypeError),
            Bad("empty", "", ValueError), Bad("blank", "   ", ValueError),
            Bad("unknown-field", "p = {q}", ValueError),
            Bad("bad-format", "p = {p:d}", ValueError),
            Bad("positional-field", "p = {}", ValueError)],
    "caption": [Bad("int", 5, TypeError), Bad("bytes", b"caption", TypeError)],
    "dpi": [Bad("zero", 0, ValueError), Bad("negative", -80, ValueError),
            Bad("nan", NAN, ValueError), Bad("+inf", INF, ValueError),
            Bad("str", "80", TypeError), Bad("None", None, TypeError),
            Bad("bool", True, TypeError), Bad("complex", 80j, TypeError)],
}
_SLIDER_BAD["live_dpi"] = [b for b in _SLIDER_BAD["dpi"]]
_SLIDER_OK = {"plot": [("extra-defaults", lambda p, c=1.0, d=2.0: None),
                       ("var-keywords", lambda **kw: None)],
              "alt": [("function", lambda p: f"p = {p}"), ("no-field", "A line.")],
              "caption": [("None", None)], "dpi": [("float", 72.5)],
              "live_dpi": [("float", 50.5)]}


def _call_slider(func, kw):
    kw = dict(kw)
    params = kw.pop("params")
    return _with_alt_text(func(kw.pop("plot"), *params, **kw))


def _call_slider_class(func, kw):
    return _with_alt_text(func(**kw))


def _with_alt_text(s):
    # a blank alt text is refused when frames are made (not at construction):
    # make the first frame's alt text, which costs no rendering
    s.alt_text(**s.initial)
    return s


TABLE += [
    Row("widgets.slider", widgets.slider,
        {"plot": _plot, "params": (_P,), "alt": "p = {p}", "caption": "A line.", "dpi": 40,
         "live_dpi": 30},
        _SLIDER_BAD, _SLIDER_OK, call=_call_slider),
    Row("widgets.Slider", widgets.Slider,
        {"plot": _plot, "params": (_P,), "alt": "p = {p}", "caption": "A line.", "dpi": 40,
         "live_dpi": 30},
        dict(_SLIDER_BAD, params=_SLIDER_BAD["params"] + [Bad("not-iterable", 5, TypeError)]),
        dict(_SLIDER_OK, params=[("list", [_P])]), call=_call_slider_class),
    Row("widgets.Param", widgets.Param,
        {"name": "p", "values": [0.5, 1.0, 2.0], "label": "ρ", "fmt": "{:.1f}", "initial": 1.0},
        {"name": [Bad("not-identifier", "1x", ValueError), Bad("empty", "", ValueError),
                  Bad("spaces", "a b", ValueError), Bad("int", 5, TypeError),
                  Bad("None", None, TypeError)],
         "values": [Bad("empty", [], ValueError), Bad("empty-array", np.empty(0), ValueError),
                    Bad("nan", [1.0, NAN], ValueError), Bad("+inf", [1.0, INF], ValueError),
                    Bad("-inf", [-INF, 1.0], ValueError),
                    Bad("numpy-nan", np.array([1.0, NAN]), ValueError),
                    Bad("float32-nan", [np.float32(1), np.float32("nan")], ValueError),
                    Bad("complex", [1.0, 1j], TypeError),
                    Bad("duplicate", [1.0, 1.0, 2.0], ValueError),
                    Bad("not-iterable", 5, TypeError), Bad("None", None, TypeError),
                    Bad("unhashable", [[1.0], [2.0]], TypeError)],
         "label": [Bad("int", 5, TypeError), Bad("bytes", b"p", TypeError)],
         "fmt": [Bad("int", 5, TypeError), Bad("None", None, TypeError),
                 Bad("bad-spec", "{:d}", ValueError), Bad("unknown-field", "{x}", ValueError),
                 Bad("bad-syntax", "{:.2f", ValueError)],
         "initial": [Bad("not-in-values", 3.0, ValueError), Bad("nan", NAN, ValueError),
                     Bad("str", "1.0", ValueError)]},
        {"label": [("None", None)], "initial": [("None", None), ("int-equal", 1)],
         "values": [("ints", [1, 2, 3]), ("numpy", np.array([0.5, 1.0, 2.0]))],
         "fmt": [("plain", "{}"), ("no-field", "value")]}),
    Row("widgets.render_png", widgets.render_png,
        {"fig": Fresh(_figure), "dpi": 20, "colors": 16},
        {"fig": [Bad("None", None, TypeError), Bad("str", "fig", TypeError),
                 Bad("axes", Fresh(lambda: plt.figure().add_subplot()), TypeError),
                 Bad("function", _figure, TypeError)],
         "dpi": [Bad("zero", 0, ValueError), Bad("negative", -1, ValueError),
                 Bad("nan", NAN, ValueError), Bad("+inf", INF, ValueError),
                 Bad("str", "80", TypeError), Bad("None", None, TypeError),
                 Bad("bool", True, TypeError)],
         "colors": [Bad("one", 1, ValueError), Bad("zero", 0, ValueError),
                    Bad("too-many", 257, ValueError), Bad("float", 16.0, TypeError),
                    Bad("nan", NAN, TypeError), Bad("str", "16", TypeError),
                    Bad("bool", True, TypeError)]},
        {"colors": [("two", 2), ("max", 256), ("numpy", np.int64(8)), ("no-palette", None)],
         "dpi": [("float", 10.5)]}),
]


def _row_id(row):
    return f"{row.name}[{row.tag}]" if row.tag else row.name


def _public_names():
    return set(sm.__all__) | {f"widgets.{n}" for n in widgets.__all__}


# ---------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------

def test_table_covers_every_public_function():
    """A new public function (or widget) without a row fails here."""
    assert {row.name for row in TABLE} == _public_names()
    for row in TABLE:
        module, _, name = row.name.rpartition(".")
        assert row.func is getattr(widgets if module else sm, name), row.name


def test_table_covers_every_argument():
    """Every argument of every public function has bad values in its row."""
    import inspect

    for row in TABLE:
        params = inspect.signature(row.func).parameters
        names = {n for n, p in params.items()
                 if p.kind is not p.VAR_KEYWORD and not n.startswith("_")}
        assert set(row.valid) == names, (row.name, set(row.valid) ^ names)
        assert set(row.bad) == names, (row.name, set(row.bad) ^ names)
        assert all(row.bad[n] for n in names), row.name


CASES = [pytest.param(row, arg, bad, id=f"{_row_id(row)}-{arg}-{bad.label}")
         for row in TABLE for arg, bads in row.bad.items() for bad in bads]
OK_CASES = [pytest.param(row, arg, value, id=f"{_row_id(row)}-{arg}-{label}")
            for row in TABLE for arg, oks in row.ok.items() for label, value in oks]


def _names(message, arg):
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(arg)}(?![A-Za-z0-9_])", message)


@pytest.mark.parametrize("row, arg, bad", CASES)
def test_bad_argument_raises_naming_it(row, arg, bad):
    kwargs = dict(row.valid, **{arg: bad.value})
    try:
        with pytest.raises((TypeError, ValueError)) as info:
            row(**kwargs)
    finally:
        plt.close("all")
    assert info.type is bad.exc, (
        f"{bad.label} {arg}: expected {bad.exc.__name__}, got "
        f"{info.type.__name__}: {info.value}")
    assert _names(str(info.value), arg), (
        f"the message does not name {arg!r}: {info.value}")


@pytest.mark.parametrize("row", TABLE, ids=_row_id)
def test_unknown_keyword_raises_naming_it(row):
    with pytest.raises(TypeError, match="bogus_keyword"):
        row(**row.valid, bogus_keyword=1)
    plt.close("all")


def _assert_no_nan(out, where):
    if isinstance(out, tuple):
        for o in out:
            _assert_no_nan(o, where)
    elif isinstance(out, (np.ndarray, np.floating)):
        assert out.dtype == np.float64, where
        assert not np.isnan(out).any(), f"{where} returned NaN: {out!r}"


@pytest.mark.parametrize("row", TABLE, ids=_row_id)
def test_valid_call_gives_no_nan(row):
    try:
        _assert_no_nan(row(**row.valid), row.name)
    finally:
        plt.close("all")


@pytest.mark.parametrize("row, arg, value", OK_CASES)
def test_meaningful_edge_values_are_accepted(row, arg, value):
    try:
        _assert_no_nan(row(**dict(row.valid, **{arg: value})), f"{row.name}({arg}={value!r})")
    finally:
        plt.close("all")


def test_number_of_cases():
    # guard against the table silently shrinking (e.g. a kind list emptied)
    assert len(CASES) >= 500
    assert len(OK_CASES) >= 60
