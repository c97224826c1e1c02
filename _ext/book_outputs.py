"""The book's other outputs: the smoothmax wheel on the site, and the single page the PDF prints.

* The wheel.
  ``make book`` builds ``dist/smoothmax-<version>-py3-none-any.whl`` first; at
  the end of an HTML build this copies it to ``_build/html/_downloads/``, where
  the first cell of every downloaded chapter notebook finds it when
  ``smoothmax_site_url`` (the absolute URL the book is published at) is set in
  ``_config.yml``: see ``tools/setup_cell.py``.  A build without the wheel (a
  bare ``jupyter-book build``) still succeeds, without it.
* The single page (``--builder singlehtml``, what ``make pdf`` prints).
  Sphinx looks up an extension's node renderers by builder name and falls back
  to the format ("html") only when no extension registered any for the name;
  some do for "singlehtml", so sphinx-proof's theorems had no renderer there.
  The html renderers are added under "singlehtml" where it has none.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)


def wheel_path(srcdir: Path) -> Path | None:
    """dist/smoothmax-<version>-py3-none-any.whl; None for a book without lib/ (a test's probe book)."""
    init_py = srcdir / "lib" / "smoothmax" / "__init__.py"
    if not init_py.is_file():
        return None
    init = init_py.read_text(encoding="utf-8")
    version = re.search(r'^__version__\s*=\s*["\']([^"\']+)["\']', init, re.M).group(1)
    return srcdir / "dist" / f"smoothmax-{version}-py3-none-any.whl"


def copy_wheel(app, exc):
    if exc is not None or app.builder.name != "html":
        return
    wheel = wheel_path(Path(app.srcdir))
    if wheel is None:
        return
    if not wheel.is_file():
        logger.info(f"smoothmax wheel: no {wheel.relative_to(app.srcdir)} (make dist), not shipped")
        return
    dest = Path(app.outdir) / "_downloads"
    dest.mkdir(parents=True, exist_ok=True)
    for old in dest.glob("smoothmax-*.whl"):
        old.unlink()
    shutil.copy2(wheel, dest / wheel.name)
    logger.info(f"smoothmax wheel: _downloads/{wheel.name}")


def singlehtml_renderers(app):
    if app.builder.name != "singlehtml":
        return
    handlers = app.registry.translation_handlers
    merged = dict(handlers.get("html", {}))
    merged.update(handlers.get("singlehtml", {}))
    handlers["singlehtml"] = merged


def setup(app):
    # The absolute URL the book is published at ('' = not published: notebooks
    # then install smoothmax from PyPI by name).  Read by tools/setup_cell.py.
    app.add_config_value("smoothmax_site_url", "", "html", types=[str])
    app.connect("build-finished", copy_wheel)
    app.connect("builder-inited", singlehtml_renderers)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
