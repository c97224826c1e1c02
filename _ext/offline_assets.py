"""Make every page of the book work with no network.

* MathJax 3 is copied from the installed ``sphinx-mathjax-offline`` package into
  ``_build/html/_static/mathjax``; only the files a page loads are copied (the
  ``tex-chtml`` component and its WOFF2 fonts), not the package's 24 MB.
* sphinx-thebe (always loaded by Jupyter Book 1) adds its inline config script
  once per ``env-before-read-docs`` handler, so pages declared ``THEBE_JS_URL``
  twice (a JavaScript error) and pointed at unpkg.com.  The book has no launch
  service, so its scripts and styles are removed from every page.
* myst-nb would embed the ipywidgets state of every executed notebook together
  with CDN scripts to render it.  Our sliders carry their own kernel-free
  fallback (``smoothmax.widgets``), so the state is dropped.
* Sphinx appends ``?v=<crc32>`` to a CSS or JS link only when the file is
  already in the output folder as the page is written.  Extensions (myst-nb,
  sphinx-exercise, sphinx-proof) copy theirs at the end of the build, so a
  clean build and a rebuild wrote different pages.  The query is dropped
  everywhere: two builds of the same sources give byte-identical pages (the
  theme's own assets keep their content digest in the file name).
"""

from __future__ import annotations

import shutil
from importlib import metadata
from pathlib import Path

# Relative to MathJax's root; everything tex-chtml.js fetches at run time.
MATHJAX_FILES = ["tex-chtml.js", "output/chtml/fonts/woff-v2"]


def mathjax_root() -> Path:
    dist = metadata.distribution("sphinx-mathjax-offline")
    for f in dist.files or []:
        if str(f).replace("\\", "/").endswith("static/mathjax/tex-chtml.js"):
            return Path(dist.locate_file(f)).parent
    raise RuntimeError("sphinx-mathjax-offline is installed but has no tex-chtml.js")


def copy_mathjax(app, exc):
    if exc is not None or app.builder.format != "html":
        return
    src = mathjax_root()
    dest = Path(app.outdir) / "_static" / "mathjax"
    if dest.exists():
        shutil.rmtree(dest)
    for rel in MATHJAX_FILES:
        s, d = src / rel, dest / rel
        d.parent.mkdir(parents=True, exist_ok=True)
        if s.is_dir():
            shutil.copytree(s, d)
        else:
            shutil.copy2(s, d)


def _no_widget_state(self, metadata: dict) -> None:
    """Replacement for myst-nb's render_nb_finalise: embed no widget state/JS."""


def _is_thebe(asset) -> bool:
    name = str(getattr(asset, "filename", asset) or "")
    body = str(getattr(asset, "attributes", {}).get("body", ""))
    return "thebe" in name or "THEBE_JS_URL" in body


def drop_thebe(app, pagename, templatename, context, doctree):
    for key in ("script_files", "css_files"):
        if key in context:
            context[key] = [a for a in context[key] if not _is_thebe(a)]


def disconnect_thebe(app):
    """Stop sphinx-thebe adding its (inert) per-page config blob."""
    for event in ("doctree-resolved",):
        for listener in list(app.events.listeners.get(event, [])):
            if getattr(listener.handler, "__module__", "").startswith("sphinx_thebe"):
                app.disconnect(listener.id)


def _no_checksum(outdir, filename) -> str:
    """Replacement for Sphinx's asset checksum: no ``?v=`` query, ever."""
    return ""


def setup(app):
    import sphinx.builders.html as html_builder
    from myst_nb.core.render import NbElementRenderer

    NbElementRenderer.render_nb_finalise = _no_widget_state
    html_builder._file_checksum = _no_checksum
    app.connect("builder-inited", disconnect_thebe)
    app.connect("build-finished", copy_mathjax)
    app.connect("html-page-context", drop_thebe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
