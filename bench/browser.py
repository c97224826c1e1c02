"""Static slider latency: the built pages in headless Chromium, no kernel.

``_build/html`` is served on 127.0.0.1 (random port); each chapter page is
loaded and typeset (MathJax), then for every slider range input: focus it,
put it at its left end (not timed), and press ArrowRight a few times.  For
each press, a script added to the page records, with ``performance.now()``:

* at ``keydown`` (capture phase on ``window``): the start;
* at the ``input`` event, after the page's own handler has switched frames
  (a bubbling listener on ``window`` runs after the input's own listener):
  the visible ``<img>`` is awaited with ``img.decode()`` -> *ready*;
* then the next ``requestAnimationFrame`` callback -> *frame*: the frame in
  which the new image is painted.

*frame* includes waiting for the next animation frame (up to one 16.7 ms
refresh interval); *ready* is the page's own work.  Goal: median *frame*
<= 16 ms.  Chromium, its arguments and the server handler come from
tests/conftest.py.
"""

from __future__ import annotations

from pathlib import Path

from common import book_conftest

STATIC_GOAL_MS = 16.0

_INSTRUMENT = r"""() => {
  const B = window.__smxBench = {t0: null, results: [], waiter: null};
  window.addEventListener("keydown", (e) => {
    if (e.target.matches && e.target.matches("figure.smx-slider input[type=range]")) {
      B.t0 = performance.now();
    }
  }, true);
  window.addEventListener("input", (e) => {
    if (B.t0 === null) return;                   // a move we did not time
    const t0 = B.t0, inp = e.target;
    B.t0 = null;
    const tInput = performance.now();
    const img = inp.closest("figure.smx-slider").querySelector("img[data-key]:not([hidden])");
    const done = (r) => { B.results.push(r); if (B.waiter) B.waiter(); };
    img.decode().then(() => {
      const tReady = performance.now();
      requestAnimationFrame(() => done({value: inp.value, key: img.dataset.key,
        input: tInput - t0, ready: tReady - t0, frame: performance.now() - t0}));
    }, (err) => done({error: String(err)}));
  });
}"""

_WAIT = r"""(n) => {
  const B = window.__smxBench;
  if (B.results.length >= n) return B.results[n - 1];
  return new Promise((resolve) => {
    B.waiter = () => { if (B.results.length >= n) { B.waiter = null; resolve(B.results[n - 1]); } };
  });
}"""

_TO_START = r"""(el) => { el.value = el.min; el.dispatchEvent(new Event("input", {bubbles: true})); }"""


def serve(html_dir: Path):
    """The tests' static server (tests/conftest.py)."""
    return book_conftest().serve_static(html_dir)


def static_latency(html_dir: Path, pages: list[str], presses: int = 8) -> tuple[str, dict]:
    """``(chromium version, {page: [per-input result]})`` for the given chapter pages."""
    from playwright.sync_api import sync_playwright

    cf = book_conftest()
    out = {}
    with serve(html_dir) as site, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=cf.chromium_executable(), headless=True,
                                     args=cf.CHROMIUM_ARGS)
        version = browser.version
        for page_path in pages:
            # a fresh context per page, as in the tests (a second page in one
            # context may never reach "networkidle")
            ctx = browser.new_context(viewport={"width": 1280, "height": 900})
            page = ctx.new_page()
            cf.load(page, f"{site}/{page_path}", mathjax=True)
            page.wait_for_load_state("networkidle")  # MathJax fonts
            page.wait_for_timeout(300)
            page.evaluate(_INSTRUMENT)
            inputs = []
            n = 0
            for inp in page.locator("figure.smx-slider input[type=range]").all():
                iid = inp.get_attribute("id")
                hi = int(inp.get_attribute("max"))
                inp.scroll_into_view_if_needed()
                inp.focus()
                inp.evaluate(_TO_START)
                page.wait_for_timeout(100)
                moves = []
                for _ in range(min(presses, hi)):
                    page.keyboard.press("ArrowRight")
                    n += 1
                    moves.append(page.evaluate(_WAIT, n))
                errors = [m["error"] for m in moves if "error" in m]
                if errors:
                    raise RuntimeError(f"{page_path} #{iid}: img.decode() failed: {errors[0]}")
                inputs.append({"id": iid, "positions": hi + 1, "moves": moves})
            out[page_path] = inputs
            ctx.close()
        browser.close()
    return version, out
