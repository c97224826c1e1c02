"""The printed book (`make pdf`): one PDF of the whole book, read once by every test.

``make test`` builds it (``test-book`` depends on ``pdf``); ``SMX_PDF`` points
the tests at another file.  Checked: a plausible page count, every chapter's
title as extractable text and as a bookmark, a table of contents whose entries
are links, internal links that resolve, typeset mathematics (no raw LaTeX in
the prose, i.e. outside code set in the monospace font).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from conftest import CHAPTERS_DIR, ROOT

PDF = Path(os.environ.get("SMX_PDF") or ROOT / "_build" / "pdf" / "smooth-max.pdf")
CHAPTERS = sorted(CHAPTERS_DIR.glob("[0-9][0-9]_*.ipynb"))
RAW_TEX = re.compile(r"\\[A-Za-z]{2,}|\$\$|\\\(|\\\)|\\\[|\\\]|\$[^$\s][^$]*\$")


def chapter_title(path: Path) -> str:
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "markdown":
            m = re.search(r"^# (.+)$", "".join(cell["source"]), re.M)
            if m:
                return m.group(1).strip()
    raise AssertionError(f"{path.name} has no title")


def _squash(s: str) -> str:
    return re.sub(r"\s+", "", s)


@pytest.fixture(scope="module")
def book():
    if not PDF.is_file():
        pytest.fail(f"no {PDF}: run `make pdf` (`make test` does)", pytrace=False)
    from pypdf import PdfReader

    reader = PdfReader(str(PDF))
    pages, prose = [], []
    for page in reader.pages:
        runs = []

        def visit(text, cm, tm, font, size, runs=runs):
            name = str((font or {}).get("/BaseFont", ""))
            if "Mono" not in name:
                runs.append(text)

        pages.append(page.extract_text(visitor_text=visit))
        prose.append("".join(runs))
    return reader, pages, prose


def _outline_titles(outline) -> list[str]:
    out = []
    for item in outline:
        out += _outline_titles(item) if isinstance(item, list) else [item.title]
    return out


def test_page_count(book):
    reader, pages, _ = book
    assert 12 * len(CHAPTERS) <= len(pages) <= 800, f"{len(pages)} pages"  # 122 on 2026-12-04


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_title_is_text_and_bookmark(book, path):
    reader, pages, _ = book
    title = chapter_title(path)
    assert any(_squash(title) in _squash(t) for t in pages[1:]), f"{title!r} is not in the PDF's text"
    assert any(_squash(title) in _squash(t) for t in _outline_titles(reader.outline)), \
        f"{title!r} is not a bookmark"


def test_table_of_contents_links_to_every_chapter(book):
    reader, pages, _ = book
    front = "".join(pages[:4])
    assert "Contents" in front
    names = reader.named_destinations
    targets = set()
    for page in reader.pages[:4]:
        for annot in page.get("/Annots") or []:
            a = annot.get_object()
            dest = a.get("/Dest") or (a.get("/A") or {}).get("/D")
            if isinstance(dest, str) and dest in names:
                targets.add(reader.get_destination_page_number(names[dest]))
    for path in CHAPTERS:
        title = _squash(chapter_title(path))
        assert title in _squash(front), f"the contents lack {chapter_title(path)!r}"
        assert any(title in _squash(pages[n]) for n in targets), \
            f"no link in the contents leads to the page of {chapter_title(path)!r}"


def test_internal_links_resolve(book):
    reader, _, _ = book
    names = reader.named_destinations
    internal, broken = 0, []
    for number, page in enumerate(reader.pages):
        for annot in page.get("/Annots") or []:
            a = annot.get_object()
            if a.get("/Subtype") != "/Link":
                continue
            action = a.get("/A") or {}
            if action.get("/S") == "/URI":
                uri = str(action.get("/URI"))
                assert not uri.startswith(("http://127.0.0.1", "http://localhost")), \
                    f"page {number + 1}: a link to the print server {uri}"
                continue
            dest = a.get("/Dest") or action.get("/D")
            internal += 1
            if isinstance(dest, str) and dest not in names:
                broken.append((number + 1, dest))
    assert internal >= 100, f"only {internal} internal links"
    assert not broken, f"links to missing destinations: {broken[:10]}"


def test_math_is_typeset_no_raw_latex_in_prose(book):
    _, _, prose = book
    found = [(n + 1, m.group(0), text[max(0, m.start() - 40):m.end() + 40])
             for n, text in enumerate(prose) for m in RAW_TEX.finditer(text)]
    assert not found, f"raw LaTeX outside code: {found[:5]}"
    assert sum(len(t) for t in prose) > 50_000
