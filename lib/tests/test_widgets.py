"""Tests of smoothmax.widgets: one slider, a live view and a kernel-free view."""

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from smoothmax.widgets import Param, Slider, render_png, slider  # noqa: E402

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def plot_power(p, c=1.0):
    fig, ax = plt.subplots(figsize=(2.5, 1.6))
    x = np.linspace(0, 1, 50)
    ax.plot(x, c * x**p)
    ax.set_ylim(0, 3)
    return fig


def make(**kw):
    return slider(plot_power, Param("p", [0.5, 1.0, 2.0], label="ρ", fmt="{:.1f}"), alt="y = x^{p}", **kw)


def visible_keys(html):
    return re.findall(r'<img [^>]*data-key="([^"]+)"(?! hidden)>', html)


def test_static_html_has_one_frame_per_value_and_one_visible():
    html = make().static_html()
    assert html.count("<img ") == 3
    assert visible_keys(html) == ["1"]  # the middle value is shown first
    assert html.count(" hidden>") == 2


def test_label_shows_parameter_and_current_value():
    html = make().static_html()
    assert re.search(r'<label for="[^"]+"><span class="smx-name">ρ</span> = <output for="[^"]+">1.0</output></label>', html)
    assert 'aria-valuetext="ρ = 1.0"' in html
    # every value's text is available to the frame switcher, in order
    assert "data-texts='[&quot;ρ = 0.5&quot;,&quot;ρ = 1.0&quot;,&quot;ρ = 2.0&quot;]'" in html
    assert "data-values='[&quot;0.5&quot;,&quot;1.0&quot;,&quot;2.0&quot;]'" in html
    assert 'min="0" max="2" step="1" value="1"' in html


def test_every_frame_has_its_own_alt_text():
    html = make().static_html()
    alts = re.findall(r'alt="([^"]*)"', html)
    assert alts == ["y = x^0.5", "y = x^1.0", "y = x^2.0"]


def test_alt_may_be_a_function():
    s = slider(plot_power, Param("p", [1, 2]), alt=lambda p: f"power {p}")
    assert re.findall(r'alt="([^"]*)"', s.static_html()) == ["power 1", "power 2"]


def test_two_parameters_give_the_product_grid():
    s = slider(plot_power, Param("p", [1, 2, 3]), Param("c", [0.5, 1.0], initial=1.0),
               alt="p={p}, c={c}")
    html = s.static_html()
    assert s.n_frames == 6
    assert sorted(re.findall(r'data-key="([^"]+)"', html)) == [
        f"{i}-{j}" for i in range(3) for j in range(2)]
    assert visible_keys(html) == ["1-1"]
    assert html.count('type="range"') == 2


def test_frames_are_reproducible_and_differ_between_values():
    a, b = make(), make()
    assert a.frame(p=2.0) == b.frame(p=2.0)
    assert a.frame(p=2.0) != a.frame(p=0.5)
    # ids differ between sliders of one page, frames do not depend on them
    assert a.uid != b.uid
    strip = lambda h: re.sub(r"smx-plot-power-\d+", "ID", h)  # noqa: E731
    assert strip(a.static_html()) == strip(b.static_html())


def test_png_has_no_metadata_and_a_palette():
    from PIL import Image
    import io

    png = render_png(plot_power(1.0))
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"Software" not in png and b"tIME" not in png
    with Image.open(io.BytesIO(png)) as im:
        assert im.mode == "P"


def test_mimebundle_offers_live_widget_and_static_fallback(monkeypatch):
    monkeypatch.setenv("SMOOTHMAX_STATIC_FRAMES", "1")
    s = make()
    bundle = s._repr_mimebundle_()
    assert WIDGET_MIME in bundle
    assert bundle[WIDGET_MIME]["model_id"] == s.widget().model_id
    assert bundle["text/html"].startswith("<style>")
    assert "3 frames" in bundle["text/plain"]


def test_live_slider_redraws_through_the_same_plot():
    s = make()
    box = s.widget()
    first = s.image.value
    assert s.controls[0].description == "ρ ="
    assert s.controls[0].value == 1.0
    s.controls[0].value = 2.0
    assert s.image.value != first
    assert 'alt="y = x^2.0"' in s.image.value
    assert box is s.widget()  # built once


def _counting(calls):
    def counted(p, c=1.0):
        calls.append(p)
        return plot_power(p, c)
    return counted


def test_a_live_move_calls_plot_for_the_new_value(monkeypatch):
    """Live means live: each move draws anew, also between grid points and
    back on a value already shown; nothing is pre-rendered in a kernel."""
    monkeypatch.delenv("SMOOTHMAX_STATIC_FRAMES", raising=False)
    calls = []
    s = slider(_counting(calls), Param("p", [0.5, 1.0, 2.0]), alt="y = x^{p}")
    bundle = s._repr_mimebundle_()
    assert calls == [1.0]                # the first frame only, shared by both views
    assert bundle["text/html"].count("<img") == 1
    assert WIDGET_MIME in bundle
    control = s.controls[0]
    assert (control.min, control.max) == (0.5, 2.0)
    for value in (1.37, 2.0, 0.5, 1.37):     # off the grid, on it, and again
        control.value = value
    assert calls == [1.0, 1.37, 2.0, 0.5, 1.37]
    assert f'alt="y = x^{1.37}"' in s.image.value


def test_static_frames_only_when_the_book_is_built(monkeypatch):
    monkeypatch.setenv("SMOOTHMAX_STATIC_FRAMES", "1")
    calls = []
    s = slider(_counting(calls), Param("p", [0.5, 1.0, 2.0]), alt="y = x^{p}")
    html = s._repr_mimebundle_()["text/html"]
    assert html.count("<img ") == 3 and 'data-key="2"' in html
    assert sorted(calls[:3]) == [0.5, 1.0, 2.0]


def test_live_controls_follow_the_grid_kind():
    import ipywidgets as w

    s = slider(lambda k, T, name: plot_power(1.0), Param("k", [2, 10, 100]),
               Param("T", [0.05, 1.0, 10.0], initial=1.0), Param("name", ["a", "b"], fmt="{}"),
               alt="{k} {T} {name}")
    s.widget()
    k, T, name = s.controls
    assert isinstance(k, w.IntSlider) and (k.min, k.max, k.value) == (2, 100, 10)
    # a log scale: the grid and ~100 geometric values between, as labelled
    assert isinstance(T, w.SelectionSlider) and T.value == 1.0
    assert 90 <= len(T.options) <= 110
    assert T.options[0] == ("0.05", 0.05) and T.options[-1] == ("10", 10.0)
    assert isinstance(name, w.SelectionSlider) and name.value == "a"
    lin = slider(plot_power, Param("p", [0.0, 0.5, 0.9]), alt="{p}")
    lin.widget()
    assert isinstance(lin.controls[0], w.FloatSlider)
    assert lin.controls[0].step == pytest.approx(0.01)   # 0.5 and 0.9 on the lattice


@pytest.mark.parametrize("grid", [
    [0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0],   # chapter 5's T
    [1.0, 2.0, 4.0, 8.0, 12.0, 16.0, 32.0, 64.0],                     # NormFace s
    [10, 100, 1000, 10575],                                           # NormFace K
    [0.0, 0.02, 0.1, 0.3, 0.5, 0.7, 0.9],                             # label smoothing eps
    [0.0, 0.3, 1.0 / 3.0],                                            # off every round lattice
    [2, 10, 100], [-4, 0, 8],
])
def test_every_grid_value_is_reachable_live(grid):
    """A reader asked about a grid value can drag the live slider onto it;
    a selection slider's labels are distinct and are the values plotted."""
    import ipywidgets as w

    s = slider(lambda x: plot_power(1.0), Param("x", grid, fmt="{:g}"), alt="{x}")
    s.widget()
    c = s.controls[0]
    if isinstance(c, w.SelectionSlider):
        labels, values = zip(*c.options)
        assert set(grid) <= set(values) and len(set(labels)) == len(labels)
        assert list(values) == sorted(values) and len(values) >= 90
        assert all(float(lab) == v for lab, v in c.options if v not in grid)
    elif isinstance(c, w.IntSlider):
        assert (c.min, c.max, c.step) == (min(grid), max(grid), 1)
    else:
        assert isinstance(c, w.FloatSlider)
        assert all(abs((v - c.min) / c.step - round((v - c.min) / c.step)) < 1e-9 for v in grid)
        assert 50 <= (c.max - c.min) / c.step <= 250


def test_live_frames_are_drawn_at_live_dpi():
    from PIL import Image
    import io

    s = make(dpi=80, live_dpi=40)
    with Image.open(io.BytesIO(s.live_frame(p=1.0))) as live, \
            Image.open(io.BytesIO(s.frame(p=1.0))) as static:
        assert live.size[0] * 2 == static.size[0]


@pytest.mark.parametrize(
    "args, match",
    [
        (dict(name="1x", values=[1]), "name"),
        (dict(name="p", values=[]), "values"),
        (dict(name="p", values=[1, 1]), "distinct"),
        (dict(name="p", values=[1.0, float("nan")]), "finite"),
        (dict(name="p", values=[1, 2], initial=3), "initial"),
    ],
)
def test_param_rejects_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        Param(**args)


def test_slider_rejects_bad_input():
    with pytest.raises(TypeError, match="plot"):
        slider("not callable", Param("p", [1]), alt="x")
    with pytest.raises(ValueError, match="params"):
        slider(plot_power, alt="x")
    with pytest.raises(ValueError, match="params"):
        slider(plot_power, Param("p", [1]), Param("p", [2]), alt="x")
    with pytest.raises(TypeError, match="alt"):
        slider(plot_power, Param("p", [1]), alt=None)
    with pytest.raises(TypeError, match="params"):
        Slider(plot_power, ["p"], alt="x")


def test_plot_must_return_a_figure():
    s = slider(lambda p: None, Param("p", [1]), alt="x")
    with pytest.raises(TypeError, match="figure"):
        s.static_html()


def test_empty_alt_text_is_refused():
    s = slider(plot_power, Param("p", [1]), alt=" ")
    with pytest.raises(ValueError, match="alt"):
        s.static_html()


def test_render_png_rejects_bad_colors():
    with pytest.raises(ValueError, match="colors"):
        render_png(plot_power(1.0), colors=1)
