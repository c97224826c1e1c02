"""The built pages in headless Chromium, offline.

* Every page loads with no request leaving 127.0.0.1, no JavaScript error, no
  console error and no failed or >= 400 local request.
* Chapter pages: MathJax (served from _static) typesets every formula.
* Static sliders: the keyboard moves them, the shown frame, the ``<output>``
  and ``aria-valuetext`` follow, the slider has an accessible name and every
  frame has alt text.
* No chapter page of either edition (HTML, data-URI images included, plus the
  images and fonts it loads) weighs 2 MB or more.
"""

from __future__ import annotations

import json
import math
import re

import pytest
from conftest import (
    MISSING_BUILD,
    chapter_pages,
    chapter_source,
    html_pages,
    is_chapter,
    load,
    source_has_slider,
    wait_for_mathjax,
)
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

MAX_PAGE_BYTES = 2 * 1024 * 1024


def _url(site: str, page: str) -> str:
    if page == MISSING_BUILD:
        pytest.fail(page, pytrace=False)
    return f"{site}/{page}"


@pytest.mark.parametrize("page_path", html_pages())
def test_page_loads_offline_without_errors(site, offline_page, page_path):
    page, problems = offline_page
    load(page, _url(site, page_path))
    if is_chapter(page_path):
        wait_for_mathjax(page)
        page.wait_for_load_state("networkidle")  # MathJax fonts
    assert not problems, f"{page_path}:\n{problems.report()}"


STRAY_DELIMITERS_JS = r"""() => {
  const root = document.querySelector("article") || document.body;
  const skip = "pre, code, script, style, textarea, mjx-container, .math, .cell_input, .cell_output, .highlight";
  const out = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || el.closest(skip)) continue;
    const t = n.textContent;
    const prev = n.previousSibling, next = n.nextSibling;
    const nextToMath = (prev && prev.matches && prev.matches(".math") && /^\s*\$/.test(t))
                    || (next && next.matches && next.matches(".math") && /\$\s*$/.test(t));
    if (/\$\$|\\\(|\\\)|\\\[|\\\]/.test(t) || nextToMath) {
      const s = JSON.stringify(el.textContent.trim().slice(0, 160));
      if (!out.includes(s)) out.push(s);
    }
  }
  return out;
}"""


@pytest.mark.parametrize("page_path", chapter_pages())
def test_math_is_typeset(site, offline_page, page_path):
    page, _ = offline_page
    load(page, _url(site, page_path))
    wait_for_mathjax(page)
    n_math = page.locator(".math").count()
    assert n_math > 0, f"{page_path}: no .math element (is there no formula in this chapter?)"
    assert page.locator("mjx-container").count() > 0, f"{page_path}: MathJax typeset nothing"
    raw = page.evaluate(
        r"""() => [...document.querySelectorAll('.math')]
              .filter(e => !e.querySelector('mjx-container')
                           || /\$\$|\\\(|\\\)|\\\[|\\\]/.test(e.textContent))
              .map(e => e.outerHTML.slice(0, 200))"""
    )
    assert not raw, f"{page_path}: {len(raw)} formula(s) left untypeset:\n" + "\n".join(raw)
    errors = page.locator("mjx-merror").all_text_contents()
    assert not errors, f"{page_path}: MathJax errors in formulas: {errors}"
    # TeX delimiters left in the prose, e.g. "$<math>$" when `$$...$$` was
    # written inside a paragraph and parsed as `$` + inline math + `$`.
    stray = page.evaluate(STRAY_DELIMITERS_JS)
    assert not stray, (f"{page_path}: TeX delimiters left in the text around formulas "
                       "(fix the Markdown source):\n" + "\n".join(stray))


# -- static sliders ----------------------------------------------------------------
def _chromium_key_step(key: str, value: int, lo: int, hi: int, step: int = 1) -> int:
    """Where Chromium puts a horizontal LTR range input after `key`."""
    if key == "Home":
        return lo
    if key == "End":
        return hi
    big = max((hi - lo) / 10, step)
    delta = {"ArrowRight": step, "ArrowUp": step, "ArrowLeft": -step, "ArrowDown": -step,
             "PageUp": big, "PageDown": -big}[key]
    new = value + delta
    new = lo + math.floor((new - lo) / step + 0.5) * step  # round to the step grid
    return int(min(hi, max(lo, new)))


KEYS = ["ArrowRight", "ArrowLeft", "End", "Home", "PageUp"]


def _visible_key(figure) -> str:
    shown = figure.locator("img[data-key]:not([hidden])")
    n = shown.count()
    assert n == 1, f"{n} frames shown at once in figure #{figure.get_attribute('id')}"
    expect(shown).to_be_visible()
    return shown.get_attribute("data-key")


@pytest.mark.parametrize("page_path", chapter_pages())
def test_static_sliders_follow_the_keyboard(site, offline_page, page_path):
    page, _ = offline_page
    load(page, _url(site, page_path))
    figures = page.locator("figure.smx-slider")
    n_fig = figures.count()
    if source_has_slider(chapter_source(page_path)):
        assert n_fig > 0, (f"{page_path}: the source calls slider( but the page has no "
                           "figure.smx-slider (was the static fallback dropped?)")
    if n_fig == 0:
        pytest.skip(f"{page_path} has no slider")

    for f in range(n_fig):
        fig = figures.nth(f)
        fig_id = fig.get_attribute("id")
        frames = fig.locator("img[data-key]")
        n_frames = frames.count()
        assert n_frames > 0, f"#{fig_id}: no frames"
        for i in range(n_frames):
            alt = frames.nth(i).get_attribute("alt")
            assert alt and alt.strip(), f"#{fig_id}: frame {frames.nth(i).get_attribute('data-key')} has no alt text"

        inputs = fig.locator("input[type=range]")
        n_inputs = inputs.count()
        assert n_inputs > 0, f"#{fig_id}: no range input"
        assert n_frames == math.prod(
            int(inputs.nth(k).get_attribute("max")) - int(inputs.nth(k).get_attribute("min")) + 1
            for k in range(n_inputs)
        ), f"#{fig_id}: {n_frames} frames do not cover the slider grid"

        for k in range(n_inputs):
            inp = inputs.nth(k)
            iid = inp.get_attribute("id")
            texts = json.loads(inp.get_attribute("data-texts"))
            lo, hi = int(inp.get_attribute("min")), int(inp.get_attribute("max"))
            step = int(inp.get_attribute("step") or 1)
            assert len(texts) == hi - lo + 1, f"#{iid}: {len(texts)} texts for {hi - lo + 1} positions"
            label = texts[0].split(" = ")[0].strip()
            output = fig.locator(f"output[for='{iid}']")

            label_el = fig.locator(f"label[for='{iid}']")
            expect(label_el).to_have_count(1)

            def check(value: int, where: str):
                expect(inp).to_have_value(str(value))
                # The visible label reads "T = 1.00" (the <output> holds the
                # value, or all of it) and so does aria-valuetext.
                expect(label_el).to_have_text(texts[value])
                shown = output.inner_text().strip()
                assert shown and texts[value].endswith(shown), (
                    f"#{iid} {where}: <output> shows {shown!r}, expected the value of {texts[value]!r}")
                expect(inp).to_have_attribute("aria-valuetext", texts[value])
                values = [inputs.nth(j).input_value() for j in range(n_inputs)]
                assert _visible_key(fig) == "-".join(values), f"#{iid} {where}: wrong frame shown"
                # An accessible name that says which parameter this is, e.g. "T"
                # or "T = 1.00" (not just the position "2").
                name = re.compile(rf"^\s*{re.escape(label)}(\s|=|:|$)")
                expect(inp, f"#{iid} has no accessible name naming {label!r}").to_have_accessible_name(name)
                assert page.get_by_role("slider", name=name).and_(inp).count() == 1

            value = int(inp.input_value())
            check(value, "initially")
            inp.focus()
            expect(inp).to_be_focused()
            for key in KEYS:
                new = _chromium_key_step(key, value, lo, hi, step)
                before = _visible_key(fig)
                page.keyboard.press(key)
                check(new, f"after {key}")
                if new != value:
                    assert _visible_key(fig) != before, f"#{iid}: {key} did not change the frame"
                value = new
            # Every position once, from the left end, with ArrowRight.
            page.keyboard.press("Home")
            seen = set()
            for v in range(lo, hi + 1):
                if v > lo:
                    page.keyboard.press("ArrowRight")
                expect(inp).to_have_value(str(v))
                seen.add(_visible_key(fig))
            assert len(seen) == hi - lo + 1, f"#{iid}: positions share frames: {sorted(seen)}"


@pytest.mark.parametrize("page_path", chapter_pages())
def test_chapter_page_weight(site, html_dir, context, page_path):
    """HTML (data-URI frames included) plus every image and font it loads (the CJK subset and
    MathJax's fonts): under 2 MB."""
    page = context.new_page()
    loaded: dict[str, dict[str, int]] = {"image": {}, "font": {}}

    def on_response(resp):
        kind = resp.request.resource_type
        if kind in loaded and not resp.url.startswith("data:"):
            try:
                loaded[kind][resp.url] = len(resp.body())
            except Exception:  # noqa: BLE001 - e.g. a redirect has no body
                pass

    page.on("response", on_response)
    load(page, _url(site, page_path))
    wait_for_mathjax(page)
    page.wait_for_load_state("networkidle")  # MathJax fonts
    html_bytes = (html_dir / page_path).stat().st_size
    images, fonts = sum(loaded["image"].values()), sum(loaded["font"].values())
    total = html_bytes + images + fonts
    assert total < MAX_PAGE_BYTES, (
        f"{page_path} weighs {total / 1e6:.2f} MB (HTML {html_bytes / 1e6:.2f} MB, "
        f"{len(loaded['image'])} images {images / 1e6:.2f} MB, {len(loaded['font'])} fonts "
        f"{fonts / 1e6:.2f} MB); the limit is 2 MB: use fewer slider values or a lower dpi"
    )


@pytest.mark.parametrize("page_path, font", [("glossary.html", "smx-cjk.woff"),
                                              ("zh/chapters/02_cross_entropy.html", "smx-cjk-zh.woff")])
def test_chinese_text_uses_the_bundled_font(site, offline_page, page_path, font):
    """The glossary's 中文, and the Chinese edition's, is drawn with the subset font from
    _static, so it shows on a machine without CJK fonts (and nothing is fetched to draw it)."""
    page, problems = offline_page
    fonts = []
    page.on("response", lambda r: fonts.append(r.url) if r.request.resource_type == "font" else None)
    load(page, _url(site, page_path))
    loaded = page.evaluate("""async () => {
        await document.fonts.ready;
        return [...document.fonts].filter(f => f.family.includes('Smooth Max CJK'))
                                  .map(f => f.status);
    }""")
    assert loaded == ["loaded"], loaded
    assert page.evaluate("document.fonts.check('16px \"Smooth Max CJK\"', '交叉熵')")
    assert any(url.endswith(f"/fonts/{font}") for url in fonts), fonts
    assert not problems, problems.report()
