"""Print the whole book to one PDF: the single-page HTML build, in headless Chromium.

    python tools/pdf.py _build/singlehtml _build/pdf/smooth-max.pdf      (what `make pdf` runs)

``make pdf`` first builds the book with Sphinx's ``singlehtml`` builder (the
notebook results come from the execution cache ``make book`` filled, so no
notebook runs again), then this script:

* serves that folder on 127.0.0.1 and opens it in the headless Chromium the
  tests use (Debian's ``chromium`` when installed, otherwise Playwright's),
  with every non-local request blocked, as the tests do;
* waits until MathJax has typeset every formula and the web fonts are loaded;
  the sliders' static fallback shows its initial frame (the one the page shows
  before anyone moves a slider);
* puts a table of contents (chapters and their sections, linked) after the
  title, opens the folded solutions, leaves out the code cells folded on the
  page (``hide-input``), hides the site's navigation, and numbers the pages;
* prints with Chromium's document outline (PDF bookmarks) and tagging on.
  Links inside the book (cross-references, equations, the contents) are links
  inside the PDF.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import os
import shutil
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# Print styles: the book's text only, no site chrome.
PRINT_CSS = """
@page { size: A4; margin: 18mm 16mm 20mm 16mm; }
.bd-header, .bd-header-article, .header-article, .bd-sidebar-primary, .bd-sidebar-secondary,
.bd-footer, .bd-footer-article, .bd-footer-content, .prev-next-area, .footer, .headerlink,
.toggle-button, button.toggle-button, .copybtn, .theme-switch-button, .search-button,
#pst-skip-link, .skip-link, .bd-search, .sidebar-toggle, .article-header-buttons,
.smx-pdf-hide, details.hide.above-input { display: none !important; }
html, body, .bd-page-width, .bd-container, .bd-container__inner, .bd-main, .bd-content, .bd-article-container,
.bd-article { max-width: none !important; width: auto !important; margin: 0 !important; padding: 0 !important;
  display: block !important; overflow: visible !important; }
body { font-size: 10.5pt; }
.smx-pdf-document { break-before: page; }
figure, img, .cell_output, mjx-container[display="true"], table, .admonition { break-inside: avoid; }
.smx-pdf-toc { break-after: page; }
.smx-pdf-toc h2 { margin-top: 0; }
.smx-pdf-toc ol { list-style: none; padding-left: 0; }
.smx-pdf-toc ol ol { padding-left: 1.6em; margin-bottom: .6em; }
.smx-pdf-toc > ol > li > a { font-weight: 600; }
.smx-pdf-toc a { color: inherit; text-decoration: none; }
"""

# Run in the page: open folded solutions, add the table of contents.
PREPARE_JS = """
() => {
  // Folded solutions (sphinx-togglebutton dropdowns) are printed open; code cells
  // folded on the page (hide-input, a <details>) are left out (PRINT_CSS).
  document.querySelectorAll(".toggle-hidden").forEach(e => e.classList.remove("toggle-hidden"));
  // Links between the book's pages point at this page ("intro.html#label"): make them
  // same-document links, which Chromium turns into links inside the PDF.
  const here = location.pathname.split("/").pop();
  document.querySelectorAll("a[href]").forEach(a => {
    const href = a.getAttribute("href");
    if (href.startsWith(here + "#")) a.setAttribute("href", href.slice(here.length));
  });
  // The contents: every document after the introduction, with its sections.
  const text = h => {
    const c = h.cloneNode(true);
    c.querySelectorAll(".headerlink").forEach(x => x.remove());
    return c.textContent.replace(/\\s+/g, " ").trim();
  };
  const entry = (section, heading) => {
    const li = document.createElement("li");
    const a = document.createElement("a");
    a.href = "#" + section.id;
    a.textContent = text(heading);
    li.appendChild(a);
    return li;
  };
  const list = document.createElement("ol");
  let chapters = 0;
  document.querySelectorAll("span[id^='document-']").forEach(span => {
    const section = span.nextElementSibling;
    if (!section || section.tagName !== "SECTION" || !section.id) return;
    const heading = section.querySelector(":scope > h1, :scope > h2");
    if (!heading) return;
    section.classList.add("smx-pdf-document");
    const li = entry(section, heading);
    const sub = document.createElement("ol");
    section.querySelectorAll(":scope > section[id]").forEach(s => {
      const h = s.querySelector(":scope > h2, :scope > h3");
      if (h) sub.appendChild(entry(s, h));
    });
    if (sub.children.length) li.appendChild(sub);
    list.appendChild(li);
    if (span.id.startsWith("document-chapters/")) chapters += 1;
  });
  const toc = document.createElement("nav");
  toc.className = "smx-pdf-toc";
  toc.setAttribute("aria-label", "Contents");
  toc.innerHTML = "<h2>Contents</h2>";
  toc.appendChild(list);
  // In place of the theme's print-only contents (the chapter titles alone).
  const theirs = document.querySelector("#jb-print-toc");
  if (theirs) theirs.replaceWith(toc);
  else (document.querySelector("article.bd-article") || document.body).prepend(toc);
  // Each static slider shows one frame, loaded: the initial one.
  const sliders = Array.from(document.querySelectorAll("figure.smx-slider"));
  const badSliders = sliders.filter(f => {
    const shown = Array.from(f.querySelectorAll("img[data-key]")).filter(i => !i.hidden);
    return shown.length !== 1 || !shown[0].complete || !shown[0].naturalWidth;
  }).map(f => f.id);
  return {chapters: chapters, documents: list.children.length, sliders: sliders.length, badSliders: badSliders};
}
"""

FOOTER = ('<div style="font-size:8px;width:100%;text-align:center;color:#555">'
          '<span class="pageNumber"></span> / <span class="totalPages"></span></div>')


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002
        pass


@contextlib.contextmanager
def serve(folder: Path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(_Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def chromium_executable() -> str | None:
    for cand in (os.environ.get("SMX_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if cand and Path(cand).is_file() and os.access(cand, os.X_OK):
            return cand
    return None


def root_page(folder: Path) -> str:
    """The single page: the root document named in _toc.yml (intro.html), else index.html."""
    root = "index"
    toc = Path(__file__).resolve().parents[1] / "_toc.yml"
    if toc.is_file():
        for line in toc.read_text(encoding="utf-8").splitlines():
            if line.startswith("root:"):
                root = line.split(":", 1)[1].strip()
    for name in (f"{root}.html", "index.html"):
        if (folder / name).is_file():
            return name
    raise SystemExit(f"pdf: no {root}.html in {folder}: build it with `jupyter-book build . --builder singlehtml`")


def print_pdf(folder: Path, out: Path, timeout_ms: int = 300_000) -> dict:
    from playwright.sync_api import sync_playwright

    page_name = root_page(folder)
    out.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    blocked: list[str] = []
    with serve(folder) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_executable(), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 1400})
            page.set_default_timeout(timeout_ms)

            def route(r):
                host = urlsplit(r.request.url).hostname
                if r.request.url.startswith(("data:", "blob:")) or host == "127.0.0.1":
                    r.continue_()
                else:
                    blocked.append(r.request.url)
                    r.abort("blockedbyclient")

            page.route("**/*", route)
            page.goto(f"{base}/{page_name}", wait_until="load")
            with contextlib.suppress(Exception):  # a busy machine: MathJax's promise is what counts
                page.wait_for_load_state("networkidle", timeout=30_000)
            page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
            page.evaluate("() => MathJax.startup.promise.then(() => true)")
            page.add_style_tag(content=PRINT_CSS)
            info = page.evaluate(PREPARE_JS)
            if info["badSliders"]:
                raise SystemExit(f"pdf: sliders without exactly one loaded frame: {info['badSliders']}")
            page.evaluate("() => document.fonts.ready.then(() => true)")
            untypeset = page.evaluate(
                "() => Array.from(document.querySelectorAll('.math')).filter("
                "e => !e.querySelector('mjx-container')).length")
            if untypeset:
                raise SystemExit(f"pdf: {untypeset} formulas were not typeset by MathJax")
            page.emulate_media(media="print")
            page.pdf(path=str(out), format="A4", print_background=True, outline=True, tagged=True,
                     display_header_footer=True, header_template="<span></span>", footer_template=FOOTER,
                     margin={"top": "18mm", "bottom": "20mm", "left": "16mm", "right": "16mm"})
        finally:
            browser.close()
    return {"chapters": info.get("chapters", 0), "sliders": info.get("sliders", 0), "seconds": round(time.perf_counter() - t0, 1),
            "blocked": blocked, "bytes": out.stat().st_size}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("html", type=Path, help="the singlehtml build folder (_build/singlehtml)")
    ap.add_argument("pdf", type=Path, help="the PDF to write")
    args = ap.parse_args(argv)
    result = print_pdf(args.html.resolve(), args.pdf)
    if result["blocked"]:
        print(f"pdf: blocked {len(result['blocked'])} non-local requests: {result['blocked'][:3]}", file=sys.stderr)
        return 1
    print(f"{args.pdf}: {result['chapters']} chapters, {result['sliders']} sliders, {result['bytes'] // 1024} KiB, {result['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
