"""The built book (`make book` has run): every chapter rendered, nothing fetched
from outside the site, MathJax served locally, and the build really is strict."""

import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
PAGES = sorted(p for p in HTML.rglob("*.html") if "_static" not in p.parts) if HTML.exists() else []
JB = Path(sys.executable).parent / "jupyter-book"


def test_book_was_built():
    assert (HTML / "index.html").exists(), "run `make book` first"


def test_every_chapter_has_a_page():
    for nb in (ROOT / "chapters").glob("*.ipynb"):
        assert (HTML / "chapters" / f"{nb.stem}.html").exists(), nb.name


class _Resources(HTMLParser):
    """Collect every URL a page would fetch by itself (not plain links)."""

    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "img", "iframe", "audio", "video", "source", "embed") and a.get("src"):
            self.urls.append(a["src"])
        if tag == "link" and a.get("href") and not {"canonical", "alternate", "search", "index", "next", "prev"} & set((a.get("rel") or "").split()):
            self.urls.append(a["href"])
        if tag == "object" and a.get("data"):
            self.urls.append(a["data"])


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(HTML)))
def test_page_fetches_nothing_from_outside(page):
    text = page.read_text(encoding="utf-8")
    parser = _Resources()
    parser.feed(text)
    external = [u for u in parser.urls if re.match(r"^(https?:)?//", u)]
    assert not external, external
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", text), "external url() in inline CSS"
    assert "THEBE_JS_URL" not in text and "require.min.js" not in text


def test_mathjax_is_local_and_lean():
    mj = HTML / "_static" / "mathjax"
    assert (mj / "tex-chtml.js").exists()
    fonts = list((mj / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff"))
    assert len(fonts) > 10
    size = sum(f.stat().st_size for f in mj.rglob("*") if f.is_file())
    assert size < 3_000_000, f"MathJax copy is {size} bytes: ship only what pages load"
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        if "math notranslate" in text:
            assert re.search(r'<script[^>]+src="(\.\./)*_static/mathjax/tex-chtml\.js', text), page


def _scratch_book(tmp_path, cells):
    """A one-notebook book using the real config and extensions."""
    import nbformat

    for name in ("_config.yml", "references.bib"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "intro.md").write_text("# Probe book\n", encoding="utf-8")
    for name in ("_ext", "_static", "_templates"):
        shutil.copytree(ROOT / name, tmp_path / name)
    (tmp_path / "chapters").mkdir()
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nchapters:\n  - file: chapters/01_probe\n", encoding="utf-8")
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("# Probe")] + cells
    nbformat.write(nb, tmp_path / "chapters" / "01_probe.ipynb")
    return _build(tmp_path)


def _build(book):
    """`jupyter-book build` with the Makefile's flags."""
    flags = re.search(r"^JB_FLAGS\s*:=\s*(.+)$", (ROOT / "Makefile").read_text(), re.M).group(1).split()
    # run inside the book: the execution cache (_config.yml) is a path relative to the
    # working directory, and a scratch book must not reuse the main build's results
    # as `make book` does: the sliders' static frames are rendered only for the book
    env = dict(os.environ, SMOOTHMAX_STATIC_FRAMES="1")
    return subprocess.run([str(JB), "build", ".", *flags], cwd=book, env=env,
                          capture_output=True, text=True, timeout=1200)


BOOK_SOURCES = ["_config.yml", "_toc.yml", "intro.md", "glossary.md", "sources.md", "bibliography.md",
                "references.bib", "chapters", "_ext", "_static", "_templates"]


def test_a_clean_build_reproduces_the_chapters_byte_for_byte(tmp_path):
    """Build the book again from scratch (every notebook executed anew) and compare
    each chapter page, slider frames included, and every image with _build/html."""
    for name in BOOK_SOURCES:
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy)(ROOT / name, tmp_path / name)
    result = _build(tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    fresh = tmp_path / "_build" / "html"
    pages = sorted(p.relative_to(HTML) for p in (HTML / "chapters").glob("*.html"))
    assert pages == sorted(p.relative_to(fresh) for p in (fresh / "chapters").glob("*.html"))
    # the images the chapters show (a rebuild leaves older ones lying in _images/)
    images = sorted({Path("_images") / name for page in pages
                     for name in re.findall(r'src="\.\./_images/([^"]+)"', (fresh / page).read_text("utf-8"))})
    differ = [str(p) for p in pages + images if (HTML / p).read_bytes() != (fresh / p).read_bytes()]
    assert not differ, f"a clean build differs from _build/html in {differ}"


@pytest.mark.parametrize(
    "what, cell",
    [
        ("a failing cell", "code:assert 1 + 1 == 3, 'wrong formula'"),
        ("a cell writing to stderr", "code:import sys; print('noise', file=sys.stderr)"),
        ("a broken reference", "md:See {ref}`no-such-label`."),
        ("an unknown citation", "md:As shown {cite}`nobody1999`."),
    ],
)
def test_strict_build_fails_on(what, cell, tmp_path):
    import nbformat

    kind, src = cell.split(":", 1)
    new = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
    result = _scratch_book(tmp_path, [new(src)])
    assert result.returncode != 0, f"the build passed despite {what}:\n{result.stdout[-2000:]}"


def test_strict_build_passes_a_clean_notebook(tmp_path):
    import nbformat

    result = _scratch_book(tmp_path, [nbformat.v4.new_code_cell("x = 1 + 1\nassert x == 2")])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


CHAPTER_PAGES = [p for p in PAGES if p.parent.name == "chapters"]


@pytest.mark.parametrize("page", CHAPTER_PAGES, ids=lambda p: str(p.relative_to(HTML)))
def test_every_citation_resolves_to_the_chapter_reference_list(page):
    """`myst.footnote` warnings are suppressed (a false alarm for {footcite},
    jupyter-book#1335), so check here that each citation has its entry."""
    text = page.read_text(encoding="utf-8")
    cited = set(re.findall(r'href="#(footcite-[^"]+)"', text))
    defined = set(re.findall(r'id="(footcite-[^"]+)"', text))
    assert cited, "a chapter cites its sources"
    assert cited <= defined, sorted(cited - defined)
    assert not re.search(r"\{(foot)?cite\}", text), "an unrendered citation role"


def test_bibliography_page_lists_every_entry():
    bib = (ROOT / "references.bib").read_text(encoding="utf-8")
    keys = re.findall(r"^@\w+\{([^,]+),", bib, re.M)
    page = (HTML / "bibliography.html").read_text(encoding="utf-8")
    assert page.count('<div class="citation"') == len(keys) > 0
    years = re.findall(r"^\s*year\s*=\s*\{(\d{4})\}", bib, re.M)
    assert len(years) == len(keys)
    for year in set(years):
        assert year in page


@pytest.mark.parametrize("edition, font", [("en", "smx-cjk.woff"), ("zh", "smx-cjk-zh.woff")])
def test_every_chinese_character_on_a_page_is_in_the_bundled_font(edition, font):
    """_static/fonts/smx-cjk.woff (English pages) and smx-cjk-zh.woff (the Chinese edition) are
    subsets; rerun tools/cjk_font.py after adding 中文 or changing a translation."""
    from fontTools.ttLib import TTFont

    zh = HTML / "zh"
    pages = [p for p in PAGES if (zh in p.parents) == (edition == "zh")]
    css = "smx-cjk-zh.css" if edition == "zh" else "smx-cjk.css"
    cmap = TTFont(ROOT / "_static" / "fonts" / font).getBestCmap()
    cjk = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
    shown = {ch for page in pages for ch in cjk.findall(page.read_text(encoding="utf-8"))}
    assert len(shown) > (600 if edition == "zh" else 50), f"{len(shown)} Chinese characters on the pages"
    missing = sorted(ch for ch in shown if ord(ch) not in cmap)
    assert not missing, f"not in the bundled font: {''.join(missing)}; run tools/cjk_font.py"
    for page in pages:
        text = page.read_text(encoding="utf-8")
        if cjk.search(text):
            assert f"_static/{css}" in text, f"{page} does not load {css}"
        other = "smx-cjk.css" if edition == "zh" else "smx-cjk-zh.css"
        assert f"_static/{other}" not in text, f"{page} loads the other edition's font {other}"
    static = HTML / ("zh/_static" if edition == "zh" else "_static")
    assert (static / "fonts" / font).exists()
    assert (static / "fonts" / "OFL.txt").exists()


@pytest.mark.parametrize("nb", sorted((ROOT / "chapters").glob("*.ipynb")), ids=lambda p: p.name)
def test_each_chapter_page_offers_its_notebook_and_no_launch_service(nb):
    page = HTML / "chapters" / f"{nb.stem}.html"
    text = page.read_text(encoding="utf-8")
    assert f'href="../_sources/chapters/{nb.name}"' in text, "no .ipynb download button"
    download = HTML / "_sources" / "chapters" / nb.name
    assert download.read_bytes() == nb.read_bytes(), "the download is not the chapter's notebook"
    for service in ("mybinder", "colab.research", "binderhub", "thebe-launch", "jupyterhub"):
        assert service not in text.lower(), f"{page.name} offers a launch service ({service})"
