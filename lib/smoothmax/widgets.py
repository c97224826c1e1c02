"""Sliders that work twice: live in Jupyter, and in static HTML with no kernel.

One call, :func:`slider`, takes a plotting function and a grid of values for
each parameter.  Displaying the result gives a single output whose MIME bundle
holds

* ``application/vnd.jupyter.widget-view+json``: ipywidgets sliders over each
  parameter's range (every grid value and about 100 values between, see
  :meth:`Slider.widget`) that call the plotting function for every new value
  (JupyterLab prefers this), and
* ``text/html``: when the environment variable ``SMOOTHMAX_STATIC_FRAMES=1``
  is set (``make book`` sets it), a self-contained fallback with one
  ``<input type="range">`` per parameter and every frame of the grid rendered
  *by the same plotting function*; a few lines of inline JavaScript switch
  frames, and the book's pages show it.  Otherwise (a reader's kernel)
  nothing is pre-rendered: the fallback is the first frame alone.

Live frames are drawn at a lower resolution (``live_dpi``, default 60) so a
move redraws quickly; static frames at ``dpi`` (default 80).

Needs the ``widgets`` extra (``pip install ./lib[widgets]``: ipywidgets,
Matplotlib, Pillow); ``import smoothmax`` itself needs only NumPy.

Both views label each slider with its parameter and current value
(``T = 0.50``); the static one uses native range inputs named by their
``<label>`` (the parameter), so arrows, Page Up/Down and Home/End work and
screen readers hear the value (``aria-valuetext="T = 0.50"``); every frame has
alt text.

Frames are PNG images reduced to a 256-colour palette, with no metadata, so two
builds give byte-identical pages.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import matplotlib.pyplot as plt
>>> def plot(k):
...     fig, ax = plt.subplots(figsize=(2, 1.5))
...     ax.plot([0, 1], [0, k])
...     return fig
>>> view = slider(plot, Param("k", [1, 2, 3], label="k"), alt="A line of slope {k}.")
>>> html = view.static_html()          # every frame, whatever the environment
>>> html.count("<img")
3
>>> 'aria-valuetext="k = 2"' in html   # the middle value is shown first
True
"""

from __future__ import annotations

import os
import base64
import html as _html
import inspect
import io
import itertools
import math
import numbers
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from ._validation import _integer_at_least, _positive_finite_scalar

__all__ = ["Param", "Slider", "slider", "render_png"]


_COUNTER = itertools.count(1)


@dataclass(frozen=True)
class Param:
    """One slider: a keyword argument of the plotting function and its grid.

    Parameters
    ----------
    name : str
        Keyword argument of the plotting function (ASCII, e.g. ``"eps"``).
    values : sequence of float
        The grid.  The static page holds one frame per value (per combination
        of values when there are several sliders), so keep it short.  The
        live slider moves from the smallest to the largest value, stopping at
        every grid value and about 100 values between (numbers only; any
        other values give a slider over the grid).
    label : str, optional
        What the reader sees, e.g. ``"ε"``.  Defaults to `name`.
    fmt : str, optional
        Format of the value in the label, e.g. ``"{:.2f}"``.
    initial : float, optional
        Value shown first; must be in `values`.  Defaults to the middle value.

    Raises
    ------
    TypeError
        If `name`, `label` or `fmt` is not a string, `values` is not a
        sequence of hashable values, or a value is complex.
    ValueError
        If `name` is not an identifier, `values` is empty, has duplicates or
        non-finite numbers, `fmt` cannot format every value, or `initial` is
        not one of `values`.  Every message names the argument.
    """

    name: str
    values: Sequence[Any]
    label: str | None = None
    fmt: str = "{:g}"
    initial: Any = None
    _values: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        if not isinstance(self.name, str):
            raise TypeError(f"name must be a string (a Python identifier), got {self.name!r}")
        if not self.name.isidentifier():
            raise ValueError(f"name must be a Python identifier, got {self.name!r}")
        try:
            values = tuple(self.values)
        except TypeError:
            raise TypeError(f"values of parameter {self.name!r} must be a sequence, "
                            f"got {type(self.values).__name__}") from None
        if not values:
            raise ValueError(f"values of parameter {self.name!r} must not be empty")
        for v in values:
            if isinstance(v, numbers.Complex) and not isinstance(v, numbers.Real):
                raise TypeError(f"values of parameter {self.name!r} must be real, got {v!r}")
            if isinstance(v, numbers.Real) and not math.isfinite(v):
                raise ValueError(f"values of parameter {self.name!r} must be finite, got {v!r}")
        try:
            distinct = len(set(values)) == len(values)
        except TypeError:
            raise TypeError(f"values of parameter {self.name!r} must be hashable "
                            f"(numbers), got {values!r}") from None
        if not distinct:
            raise ValueError(f"values of parameter {self.name!r} must be distinct")
        if self.label is not None and not isinstance(self.label, str):
            raise TypeError(f"label of parameter {self.name!r} must be a string or None, "
                            f"got {self.label!r}")
        if not isinstance(self.fmt, str):
            raise TypeError(f"fmt of parameter {self.name!r} must be a format string, "
                            f"got {self.fmt!r}")
        for v in values:
            try:
                self.fmt.format(v)
            except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
                raise ValueError(f"fmt {self.fmt!r} of parameter {self.name!r} cannot "
                                 f"format the value {v!r}: {exc!r}") from None
        if self.initial is not None and self.initial not in values:
            raise ValueError(
                f"initial value {self.initial!r} of parameter {self.name!r} is not in its values"
            )
        object.__setattr__(self, "_values", values)

    @property
    def shown_label(self) -> str:
        return self.label if self.label is not None else self.name

    @property
    def initial_index(self) -> int:
        if self.initial is None:
            return (len(self._values) - 1) // 2
        return self._values.index(self.initial)

    def text(self, value) -> str:
        """``"T = 0.50"``: the label with a value."""
        return f"{self.shown_label} = {self.fmt.format(value)}"


def render_png(fig, *, dpi: int = 80, colors: int | None = 256) -> bytes:
    """Render a Matplotlib figure to a small, reproducible PNG and close it.

    The image is reduced to an adaptive palette of `colors` colours and saved
    without metadata (no date, no software tag), so the same figure always
    gives the same bytes.  ``colors=None`` skips the palette (faster, larger:
    what a live move uses).

    Raises
    ------
    TypeError
        If `fig` is not a Matplotlib figure, `dpi` is not a real number or
        `colors` is not an integer.
    ValueError
        If `dpi` is not a finite number > 0 or `colors` is not in [2, 256].
    """
    import matplotlib.pyplot as plt
    from PIL import Image

    if not callable(getattr(fig, "savefig", None)):
        raise TypeError(f"fig must be a Matplotlib figure, got {type(fig).__name__}")
    _positive_finite_scalar(dpi, "dpi")
    if colors is not None and not (2 <= _integer_at_least(colors, "colors", 2) <= 256):
        raise ValueError(f"colors must be between 2 and 256, got {colors}")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    plt.close(fig)
    if colors is None:
        return buf.getvalue()
    buf.seek(0)
    with Image.open(buf) as im:
        im = im.convert("RGB").quantize(colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        out = io.BytesIO()
        im.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


_STYLE = """<style>
.smx-slider{margin:1em 0;max-width:100%}
.smx-slider .smx-controls{display:flex;flex-wrap:wrap;gap:.5em 2em;align-items:center;margin-bottom:.4em}
.smx-slider .smx-control{display:flex;align-items:center;gap:.6em}
.smx-slider label{font-weight:600;min-width:7.5em;font-variant-numeric:tabular-nums}
.smx-slider input[type=range]{width:14em;max-width:60vw}
.smx-slider img{max-width:100%;height:auto;display:block}
.smx-slider img[hidden]{display:none}
</style>"""

# Frames are switched by index: the frame for slider values (i, j, ...) has
# data-key "i-j-...".  Idempotent, so it may appear once per slider on a page.
_SCRIPT = """<script>
(function () {
  function init(fig) {
    if (fig.dataset.smxReady) return;
    fig.dataset.smxReady = "1";
    var inputs = Array.prototype.slice.call(fig.querySelectorAll("input[type=range]"));
    var imgs = fig.querySelectorAll("img[data-key]");
    function update() {
      var key = inputs.map(function (x) { return x.value; }).join("-");
      inputs.forEach(function (x) {
        var i = +x.value;
        x.setAttribute("aria-valuetext", JSON.parse(x.dataset.texts)[i]);
        fig.querySelector("output[for='" + x.id + "']").textContent = JSON.parse(x.dataset.values)[i];
      });
      for (var k = 0; k < imgs.length; k++) {
        imgs[k].hidden = imgs[k].dataset.key !== key;
      }
    }
    inputs.forEach(function (x) { x.addEventListener("input", update); });
    update();
  }
  function all() {
    document.querySelectorAll("figure.smx-slider").forEach(init);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", all);
  } else {
    all();
  }
})();
</script>"""


class Slider:
    """What :func:`slider` returns; display it in a notebook.

    Attributes
    ----------
    plot : callable
        The plotting function, called with one keyword per parameter and
        returning a Matplotlib figure.
    params : tuple of Param
    alt : str or callable
        Alt text of a frame: a format string over the parameter names, or a
        function of the parameters.
    """

    def __init__(self, plot: Callable, params: Sequence[Param], alt, *, caption: str | None = None,
                 dpi: int = 80, live_dpi: int = 60):
        if not callable(plot):
            raise TypeError("plot must be callable and return a Matplotlib figure")
        try:
            params = tuple(params)
        except TypeError:
            raise TypeError(f"params must be a sequence of Param, got "
                            f"{type(params).__name__}") from None
        if not params:
            raise ValueError("params: give at least one Param")
        if not all(isinstance(p, Param) for p in params):
            raise TypeError("params must be Param instances")
        names = [p.name for p in params]
        if len(set(names)) != len(names):
            raise ValueError(f"params: duplicate parameter names {names}")
        if not (isinstance(alt, str) or callable(alt)):
            raise TypeError("alt must be a format string or a function of the parameters")
        _check_plot_accepts(plot, {p.name: p._values[0] for p in params})
        if isinstance(alt, str):
            for combo in itertools.product(*(p._values for p in params)):
                try:
                    alt.format(**dict(zip(names, combo)))
                except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
                    raise ValueError(f"alt {alt!r} cannot be formatted with the parameters "
                                     f"{names}: {exc!r}") from None
        if caption is not None and not isinstance(caption, str):
            raise TypeError(f"caption must be a string or None, got {caption!r}")
        _positive_finite_scalar(dpi, "dpi")
        _positive_finite_scalar(live_dpi, "live_dpi")
        self.plot = plot
        self.params = params
        self.alt = alt
        self.caption = caption
        self.dpi = dpi
        self.live_dpi = live_dpi
        base = re.sub(r"[^A-Za-z0-9]+", "-", getattr(plot, "__name__", "plot")).strip("-") or "plot"
        self.uid = f"smx-{base}-{next(_COUNTER)}"
        self._widget = None
        self._first = None
        self._frames: dict[tuple, bytes] = {}
        self.controls: list = []   # the live sliders, once widget() has run
        self.image = None          # the live image (an ipywidgets.HTML)

    # -- shared -----------------------------------------------------------
    def alt_text(self, **values) -> str:
        text = self.alt(**values) if callable(self.alt) else self.alt.format(**values)
        if not text or not text.strip():
            raise ValueError("alt text must not be empty")
        return text

    def _figure(self, values: dict):
        fig = self.plot(**values)
        if fig is None or not hasattr(fig, "savefig"):
            raise TypeError(f"plot must return a Matplotlib figure, got {type(fig).__name__}")
        return fig

    def frame(self, **values) -> bytes:
        """The PNG of one static frame (at `dpi`, palette), rendered by `plot`.

        Kept once rendered, so the static view draws each grid point once.
        """
        key = tuple(values[p.name] for p in self.params)
        if key not in self._frames:
            self._frames[key] = render_png(self._figure(values), dpi=self.dpi)
        return self._frames[key]

    def live_frame(self, **values) -> bytes:
        """The PNG for a live move: `plot` called for these values (any values
        within the range, not only the grid), at `live_dpi`, never cached."""
        return render_png(self._figure(values), dpi=self.live_dpi, colors=None)

    def _img(self, values: dict, attrs: str = "", live: bool = False) -> str:
        png = self.live_frame(**values) if live else self.frame(**values)
        return (f'<img src="{_data_uri(png)}" '
                f'alt="{_html.escape(self.alt_text(**values))}"{attrs}>')

    def _first_img(self) -> str:
        """The first live frame (the initial values), drawn once per slider."""
        if self._first is None:
            self._first = self._img(self.initial, live=True)
        return self._first

    @property
    def initial(self) -> dict:
        return {p.name: p._values[p.initial_index] for p in self.params}

    # -- static -----------------------------------------------------------
    def static_html(self) -> str:
        """The kernel-free view: every frame of the grid plus a frame switcher."""
        controls = []
        for p in self.params:
            iid = f"{self.uid}-{p.name}"
            texts = [p.text(v) for v in p._values]
            i0 = p.initial_index
            controls.append(
                f'<div class="smx-control">'
                f'<label for="{iid}"><span class="smx-name">{_html.escape(p.shown_label)}</span> = '
                f'<output for="{iid}">{_html.escape(p.fmt.format(p._values[i0]))}</output></label>'
                f'<input type="range" id="{iid}" min="0" max="{len(texts) - 1}" step="1" '
                f'value="{i0}" aria-valuetext="{_html.escape(texts[i0])}" '
                f"data-texts='{_html.escape(_json(texts), quote=True)}' "
                f"data-values='{_html.escape(_json([p.fmt.format(v) for v in p._values]), quote=True)}'>"
                f"</div>"
            )
        frames = []
        initial_key = "-".join(str(p.initial_index) for p in self.params)
        for idx in itertools.product(*(range(len(p._values)) for p in self.params)):
            values = {p.name: p._values[i] for p, i in zip(self.params, idx)}
            key = "-".join(map(str, idx))
            hidden = "" if key == initial_key else " hidden"
            frames.append(self._img(values, f' data-key="{key}"{hidden}'))
        caption = f"<figcaption>{_html.escape(self.caption)}</figcaption>" if self.caption else ""
        return (
            f'{_STYLE}<figure class="smx-slider" id="{self.uid}">'
            f'<div class="smx-controls">{"".join(controls)}</div>'
            f'<div class="smx-frames">{"".join(frames)}</div>{caption}</figure>{_SCRIPT}'
        )

    @property
    def n_frames(self) -> int:
        return math.prod(len(p._values) for p in self.params)

    # -- live -------------------------------------------------------------
    def widget(self):
        """The live view: ipywidgets sliders; every move calls `plot` anew.

        A numeric grid gives a slider over its whole range that stops at
        every grid value and at about 100 values in between: ``IntSlider``
        for integers spanning at most 200, ``FloatSlider`` when a round step
        (50-250 of them) has every grid value on its lattice, otherwise (and
        for positive grids spanning a factor of 20 or more: a log scale) a
        ``SelectionSlider`` over the grid and ~100 values between, each the
        number its label shows.  Other grids give a ``SelectionSlider`` over
        the grid.  Nothing is pre-rendered.
        """
        if self._widget is not None:
            return self._widget
        import ipywidgets as w

        self.controls = [_live_control(w, p) for p in self.params]
        self.image = w.HTML(value=self._first_img())
        self.image.add_class("smx-live-figure")

        def redraw(change=None):
            values = {p.name: c.value for p, c in zip(self.params, self.controls)}
            self.image.value = self._img(values, live=True)

        for c in self.controls:
            c.observe(redraw, names="value")
        box = w.VBox([w.HBox(self.controls, layout=w.Layout(flex_flow="row wrap")),
                      self.image])
        box.add_class("smx-live")
        self._widget = box
        return box

    def _repr_mimebundle_(self, include=None, exclude=None):
        """Static frames only when ``SMOOTHMAX_STATIC_FRAMES=1`` (the book
        build); in a reader's kernel the fallback is the first frame alone."""
        if os.environ.get(STATIC_FRAMES_ENV, "") not in ("", "0"):
            html = self.static_html()
        else:
            html = f'<figure class="smx-first-frame">{self._first_img()}</figure>'
        bundle = {"text/plain": repr(self), "text/html": html}
        try:
            box = self.widget()
        except ImportError:  # no ipywidgets: the static view still works
            return bundle
        bundle["application/vnd.jupyter.widget-view+json"] = {
            "version_major": 2,
            "version_minor": 0,
            "model_id": box.model_id,
        }
        return bundle

    def __repr__(self):
        ps = ", ".join(f"{p.shown_label} ({len(p._values)} values)" for p in self.params)
        return f"<smoothmax slider: {ps}; {self.n_frames} frames>"


STATIC_FRAMES_ENV = "SMOOTHMAX_STATIC_FRAMES"


def _live_control(w, p: Param):
    """The ipywidgets slider of one parameter (see :meth:`Slider.widget`).

    Every grid value can be reached by dragging (the reader is asked about
    them), and so can about 100 values in between.
    """
    common = dict(description=f"{p.shown_label} =", continuous_update=True,
                  style={"description_width": "initial"}, layout=w.Layout(width="24em"))
    values, v0 = p._values, p._values[p.initial_index]
    real = all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values)
    if len(values) < 2 or not real:
        return w.SelectionSlider(options=[(p.fmt.format(v), v) for v in values], value=v0,
                                 **common)
    lo, hi = min(values), max(values)
    ints = all(isinstance(v, numbers.Integral) for v in values)
    log = lo > 0 and hi >= 20 * lo
    if ints and hi - lo <= 200:
        return w.IntSlider(value=int(v0), min=int(lo), max=int(hi), step=1, **common)
    step = None if log or ints else _nice_step(values, lo, hi)
    if step is not None:
        spec = re.fullmatch(r"\{:(\.\d+[efg%])\}", p.fmt)   # a d3 format ipywidgets accepts
        return w.FloatSlider(value=float(v0), min=float(lo), max=float(hi), step=step,
                             readout_format=spec.group(1) if spec else ".3g", **common)
    # A log scale, or a grid off every round lattice: the grid and ~100 values
    # between, each exactly the number its label shows.
    return w.SelectionSlider(options=[(p.fmt.format(v), v) for v in _live_values(p, lo, hi, log, ints)],
                             value=v0, **common)


def _nice_step(values, lo, hi):
    """The largest step 10^k x (1, 2, 2.5 or 5) giving 50-250 steps from `lo`
    to `hi` with every grid value on the lattice; None if there is none."""
    for k in range(int(math.floor(math.log10(hi - lo))), int(math.floor(math.log10(hi - lo))) - 4, -1):
        for m in (5, 2.5, 2, 1):
            step = m * 10.0**k
            n = (hi - lo) / step
            if 50 <= n <= 250 and all(abs((v - lo) / step - round((v - lo) / step)) < 1e-9
                                      for v in values):
                return step
    return None


def _live_values(p: Param, lo, hi, log, ints) -> list:
    """The grid of `p` and about 100 values from `lo` to `hi` (geometric if
    `log`), each as its label prints it (3 significant digits at most), none
    closer to a grid value than a third of the lattice step."""
    pos = math.log if log else float
    n = 100
    step = (pos(hi) - pos(lo)) / n
    values = p._values
    out = {p.fmt.format(v): v for v in values}
    for k in range(n + 1):
        x = math.exp(pos(lo) + k * step) if log else lo + k * step
        v = int(round(x)) if ints else float(f"{x:.3g}")
        if not ints:
            try:                                  # the value the label shows
                v = float(p.fmt.format(v))
            except ValueError:
                pass
        if not lo <= v <= hi or p.fmt.format(v) in out:
            continue
        if min(abs(pos(v) - pos(g)) for g in values) < step / 3:
            continue
        out[p.fmt.format(v)] = v
    return sorted(out.values())


def _check_plot_accepts(plot, values: dict) -> None:
    """TypeError naming `plot` if it cannot be called with these keywords."""
    try:
        sig = inspect.signature(plot)
    except (TypeError, ValueError):  # some builtins have no signature: try at run time
        return
    try:
        sig.bind(**values)
    except TypeError as exc:
        raise TypeError(f"plot must accept the keyword argument(s) {sorted(values)} "
                        f"(one per Param) and need no others: {exc}") from None


def _json(obj) -> str:
    import json

    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def slider(plot: Callable, *params: Param, alt, caption: str | None = None, dpi: int = 80,
           live_dpi: int = 60) -> Slider:
    """Make a slider figure that works live in Jupyter and in static HTML.

    Parameters
    ----------
    plot : callable
        ``plot(**values) -> matplotlib.figure.Figure``; called once per frame.
        It should be deterministic (seed any randomness).
    *params : Param
        One per slider.
    alt : str or callable
        Alt text of each frame, e.g. ``"Softmax of z at T = {temperature:.2f}"``.
    caption : str, optional
        A caption below the figure.
    dpi : int, optional
        Resolution of the static frames (80 keeps a frame near 20–40 KB).
    live_dpi : int, optional
        Resolution of the live frames (60: a quicker redraw on every move).

    Returns
    -------
    Slider
        Display it (last expression of a cell).

    Raises
    ------
    TypeError
        If `plot` is not callable or does not accept the parameters' names as
        keywords, a parameter is not a :class:`Param`, `alt` is neither a
        string nor callable, `caption` is not a string, or `dpi` is not a
        real number.
    ValueError
        If no parameter is given or two share a name, `alt` is a string that
        cannot be formatted with the parameter values, or `dpi` or `live_dpi`
        is not a finite number > 0.  Every message names the argument.  A blank alt
        text is refused (``ValueError``) when a frame is made.
    """
    return Slider(plot, params, alt, caption=caption, dpi=dpi, live_dpi=live_dpi)
