"""Sliders that work twice: live in Jupyter, and in static HTML with no kernel.

One call, :func:`slider`, takes a plotting function and a grid of values for
each parameter.  Displaying the result gives a single output whose MIME bundle
holds

* ``application/vnd.jupyter.widget-view+json``: ipywidgets sliders that call the
  plotting function again on every move (JupyterLab prefers this), and
* ``text/html``: a self-contained fallback with one ``<input type="range">`` per
  parameter and every frame of the grid rendered *by the same plotting
  function* at build time; a few lines of inline JavaScript switch frames.  The
  book is built with the widget view disabled, so pages show this fallback.

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
>>> html = view.static_html()
>>> html.count("<img")
3
>>> 'aria-valuetext="k = 2"' in html   # the middle value is shown first
True
"""

from __future__ import annotations

import base64
import html as _html
import io
import itertools
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

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
        of values when there are several sliders), so keep it short.
    label : str, optional
        What the reader sees, e.g. ``"ε"``.  Defaults to `name`.
    fmt : str, optional
        Format of the value in the label, e.g. ``"{:.2f}"``.
    initial : float, optional
        Value shown first; must be in `values`.  Defaults to the middle value.
    """

    name: str
    values: Sequence[Any]
    label: str | None = None
    fmt: str = "{:g}"
    initial: Any = None
    _values: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise ValueError(f"name must be a Python identifier, got {self.name!r}")
        values = tuple(self.values)
        if not values:
            raise ValueError(f"values of parameter {self.name!r} must not be empty")
        for v in values:
            if isinstance(v, float) and not math.isfinite(v):
                raise ValueError(f"values of parameter {self.name!r} must be finite, got {v!r}")
        if len(set(values)) != len(values):
            raise ValueError(f"values of parameter {self.name!r} must be distinct")
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


def render_png(fig, *, dpi: int = 80, colors: int = 256) -> bytes:
    """Render a Matplotlib figure to a small, reproducible PNG and close it.

    The image is reduced to an adaptive palette of `colors` colours and saved
    without metadata (no date, no software tag), so the same figure always
    gives the same bytes.
    """
    import matplotlib.pyplot as plt
    from PIL import Image

    if not (2 <= colors <= 256):
        raise ValueError(f"colors must be between 2 and 256, got {colors}")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    plt.close(fig)
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
                 dpi: int = 80):
        if not callable(plot):
            raise TypeError("plot must be callable and return a Matplotlib figure")
        params = tuple(params)
        if not params:
            raise ValueError("params: give at least one Param")
        if not all(isinstance(p, Param) for p in params):
            raise TypeError("params must be Param instances")
        names = [p.name for p in params]
        if len(set(names)) != len(names):
            raise ValueError(f"params: duplicate parameter names {names}")
        if not (isinstance(alt, str) or callable(alt)):
            raise TypeError("alt must be a format string or a function of the parameters")
        self.plot = plot
        self.params = params
        self.alt = alt
        self.caption = caption
        self.dpi = dpi
        base = re.sub(r"[^A-Za-z0-9]+", "-", getattr(plot, "__name__", "plot")).strip("-") or "plot"
        self.uid = f"smx-{base}-{next(_COUNTER)}"
        self._widget = None

    # -- shared -----------------------------------------------------------
    def alt_text(self, **values) -> str:
        text = self.alt(**values) if callable(self.alt) else self.alt.format(**values)
        if not text or not text.strip():
            raise ValueError("alt text must not be empty")
        return text

    def frame(self, **values) -> bytes:
        """The PNG of one frame, rendered by the plotting function."""
        fig = self.plot(**values)
        if fig is None or not hasattr(fig, "savefig"):
            raise TypeError(f"plot must return a Matplotlib figure, got {type(fig).__name__}")
        return render_png(fig, dpi=self.dpi)

    def _img(self, values: dict, attrs: str = "") -> str:
        return (f'<img src="{_data_uri(self.frame(**values))}" '
                f'alt="{_html.escape(self.alt_text(**values))}"{attrs}>')

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
        """The live view: ipywidgets sliders that redraw through `plot`."""
        if self._widget is not None:
            return self._widget
        import ipywidgets as w

        sliders = []
        for p in self.params:
            s = w.SelectionSlider(
                options=[(p.fmt.format(v), v) for v in p._values],
                value=p._values[p.initial_index],
                description=f"{p.shown_label} =",
                continuous_update=True,
                style={"description_width": "initial"},
                layout=w.Layout(width="24em"),
            )
            sliders.append(s)
        image = w.HTML(value=self._img(self.initial))
        image.add_class("smx-live-figure")

        def redraw(change=None):
            values = {p.name: s.value for p, s in zip(self.params, sliders)}
            image.value = self._img(values)

        for s in sliders:
            s.observe(redraw, names="value")
        box = w.VBox([w.HBox(sliders, layout=w.Layout(flex_flow="row wrap")), image])
        box.add_class("smx-live")
        self._sliders = sliders
        self._image = image
        self._widget = box
        return box

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = {"text/plain": repr(self), "text/html": self.static_html()}
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


def _json(obj) -> str:
    import json

    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def slider(plot: Callable, *params: Param, alt, caption: str | None = None, dpi: int = 80) -> Slider:
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
        Resolution of the frames (80 keeps a frame near 20–40 KB).

    Returns
    -------
    Slider
        Display it (last expression of a cell).
    """
    return Slider(plot, params, alt, caption=caption, dpi=dpi)
