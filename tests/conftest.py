"""Fixtures for the book-level tests: the built pages in Chromium, the live widgets in JupyterLab.

* ``site``: a static HTTP server on 127.0.0.1 (random free port) serving
  ``_build/html`` (``make test`` builds it first; a missing build is an error,
  not a skip).  ``SMX_HTML_DIR`` points the tests at another build, e.g. a
  scratch build made with ``jupyter-book build . --path-output /tmp/x``.
* ``browser``: one headless Chromium per session (Debian's ``/usr/bin/chromium``
  when present, which is what root uses; otherwise Playwright's own build,
  installed by ``python -m playwright install chromium``), and ``context``: a
  fresh browser context per test.
* ``offline_page``: a page in that context that aborts every request whose
  host is not 127.0.0.1 and records what went wrong (blocked requests, page
  errors, console errors, failed or >= 400 local requests).
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
HTML_DIR = Path(os.environ.get("SMX_HTML_DIR") or ROOT / "_build" / "html").resolve()
CHAPTERS_DIR = ROOT / "chapters"

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

MISSING_BUILD = "<no _build/html: run `make book` first>"


def pytest_configure(config):
    from playwright.sync_api import expect

    # Playwright's expect() waits 5 s by default; the machine may be busy
    # (2 cores, builds running beside the tests).  A hang still fails.
    expect.set_options(timeout=20_000)

    config.addinivalue_line("markers", "browser: loads the built HTML pages in headless Chromium")
    config.addinivalue_line("markers", "a11y: runs axe-core on the built HTML pages")
    config.addinivalue_line("markers", "lab: runs the chapter notebooks in a real JupyterLab (slow)")


# -- running a notebook as a reader would -------------------------------------------
def run_in_fresh_kernel(path: Path) -> list[tuple[int, str]]:
    """Execute the notebook at `path` top to bottom in a fresh python3 kernel, in
    its own folder; raise on the first failing cell.  Returns what cells wrote
    to stderr as (cell index, first 300 characters)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()  # raises CellExecutionError on the first failing cell
    return [(i, o.get("text", "")[:300]) for i, c in enumerate(nb.cells) if c.cell_type == "code"
            for o in c.get("outputs", []) if o.get("output_type") == "stream" and o.get("name") == "stderr"]


# -- what to test ---------------------------------------------------------------
# The Chinese edition's pages are under this folder of the site (tools/i18n.py build).
ZH_PREFIX = "zh"


def html_pages() -> list[str]:
    """Every built page, relative to the HTML root (posix), for parametrization."""
    if not HTML_DIR.is_dir():
        return [MISSING_BUILD]
    skip = {"_static", "_sources", "_images", "_downloads"}
    pages = []
    for p in HTML_DIR.rglob("*.html"):
        parts = p.relative_to(HTML_DIR).parts
        # Hidden folders (e.g. a stale .pytest_cache/README.html from an old build) are no pages.
        if set(parts[:-1]) & skip or any(part.startswith(".") for part in parts):
            continue
        pages.append(p.relative_to(HTML_DIR).as_posix())
    pages.sort()
    return pages or [MISSING_BUILD]


def chapter_pages() -> list[str]:
    """Chapter pages of both editions (English chapters/..., Chinese zh/chapters/...)."""
    return [p for p in html_pages() if is_chapter(p)] or [MISSING_BUILD]


def is_chapter(page: str) -> bool:
    return page.removeprefix(f"{ZH_PREFIX}/").startswith("chapters/")


def chapter_source(page: str) -> Path | None:
    """The notebook or MyST file a chapter page (of either edition) was built from, if any."""
    stem = Path(page.removeprefix(f"{ZH_PREFIX}/")).with_suffix("")
    for ext in (".ipynb", ".md"):
        src = ROOT / stem.with_suffix(ext)
        if src.exists():
            return src
    return None


def source_has_slider(path: Path | None) -> bool:
    if path is None:
        return False
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".ipynb":
        nb = json.loads(text)
        text = "\n".join(
            "".join(c.get("source", "")) for c in nb.get("cells", []) if c.get("cell_type") == "code"
        )
    return "slider(" in text


def slider_notebooks() -> list[str]:
    """Chapter notebooks that call ``slider(``."""
    return sorted(p.name for p in CHAPTERS_DIR.glob("*.ipynb") if source_has_slider(p))


# -- static server -------------------------------------------------------------
class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        pass


@pytest.fixture(scope="session")
def html_dir() -> Path:
    if not (HTML_DIR / "index.html").is_file() and not (HTML_DIR / "intro.html").is_file():
        pytest.fail(f"no built book in {HTML_DIR}: run `make book` first (`make test` does)", pytrace=False)
    return HTML_DIR


@contextlib.contextmanager
def serve_static(html_dir: Path):
    """Serve `html_dir` on 127.0.0.1 (a free port); yields the base URL, no trailing
    slash.  Also used by bench/browser.py."""
    handler = functools.partial(_QuietHandler, directory=str(html_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="smx-static-site", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def site(html_dir):
    """Base URL (no trailing slash) of a static server for the built book."""
    with serve_static(html_dir) as url:
        yield url


# -- browser -------------------------------------------------------------------
def chromium_executable() -> str | None:
    """Debian's chromium if installed, else None (Playwright's bundled build)."""
    for cand in (os.environ.get("SMX_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if cand and Path(cand).is_file() and os.access(cand, os.X_OK):
            return cand
    return None


@pytest.fixture(scope="session")
def playwright_instance():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright_instance):
    exe = chromium_executable()
    try:
        b = playwright_instance.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_ARGS)
    except Exception as e:  # noqa: BLE001 - turn a launch failure into a readable error
        hint = ("" if exe else
                " (no /usr/bin/chromium: as root `apt-get install chromium`, "
                "otherwise `.venv/bin/python -m playwright install chromium`; `make browser` does this)")
        pytest.fail(f"cannot launch Chromium{hint}: {e}", pytrace=False)
    yield b
    b.close()


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(30_000)
    yield ctx
    ctx.close()


# -- an offline page that records every problem ---------------------------------
LOCAL_HOSTS = {"127.0.0.1"}


@dataclass
class PageProblems:
    blocked: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    bad_status: list[str] = field(default_factory=list)

    def report(self) -> str:
        parts = []
        for name in ("blocked", "page_errors", "console_errors", "failed", "bad_status"):
            items = getattr(self, name)
            if items:
                parts.append(f"{name.replace('_', ' ')} ({len(items)}):\n  " + "\n  ".join(items))
        return "\n".join(parts)

    def __bool__(self) -> bool:
        return any((self.blocked, self.page_errors, self.console_errors, self.failed, self.bad_status))


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    return parts.hostname in LOCAL_HOSTS


@pytest.fixture
def offline_page(context):
    """``(page, problems)``: a page that may only reach 127.0.0.1."""
    problems = PageProblems()

    def route(r):
        url = r.request.url
        if _is_local(url):
            r.continue_()
        else:
            problems.blocked.append(f"{r.request.method} {url}")
            r.abort("blockedbyclient")

    context.route("**/*", route)
    page = context.new_page()
    page.on("pageerror", lambda exc: problems.page_errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: problems.console_errors.append(f"{msg.text} [{msg.location.get('url', '')}]")
        if msg.type == "error" else None,
    )

    def on_failed(req):
        if _is_local(req.url) and not req.url.startswith(("data:", "blob:")):
            problems.failed.append(f"{req.method} {req.url}: {req.failure}")

    page.on("requestfailed", on_failed)
    page.on(
        "response",
        lambda resp: problems.bad_status.append(f"{resp.status} {resp.request.method} {resp.url}")
        if resp.status >= 400 else None,
    )
    yield page, problems


def wait_for_mathjax(page, timeout: float = 60_000) -> None:
    """Wait until MathJax 3 has loaded and typeset the page."""
    page.wait_for_function(
        "() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=timeout
    )
    page.evaluate("() => MathJax.startup.promise.then(() => true)")


def load(page, url: str, *, mathjax: bool = False) -> None:
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    if mathjax and page.evaluate("() => document.querySelector('.math') !== null || !!window.MathJax"):
        wait_for_mathjax(page)
