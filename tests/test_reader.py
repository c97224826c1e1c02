"""What a reader of a chapter page meets: prose length and checking code on view.

The book keeps every check, but out of the reader's way: checking and plotting
cells are folded (``hide-input``) or removed from the page (``remove-input``,
``remove-cell``), and a chapter stays at textbook length.

* prose words: the words of the markdown cells, without mathematics ($...$,
  $$...$$), code blocks, directive options, citations and labels;
* visible asserts: assert lines in code cells a reader sees unfolded on the
  page (not hidden, not inside a folded solution).

``python tests/test_reader.py`` prints the table that README.md shows; a test
checks that README states the current numbers.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))
MAX_WORDS = 4500
MAX_VISIBLE_ASSERTS = 5
HIDDEN = {"hide-input", "remove-input", "remove-cell", "hide-cell"}
ASSERT_LINE = re.compile(r"^\s*(assert\b|np\.testing\.assert_|assert_\w+\()", re.M)


def _cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _drop_code_blocks(md: str) -> str:
    """Remove fenced code blocks; keep directives' content (exercises, proofs, notes)."""
    out, stack, code_fence = [], [], None
    for line in md.split("\n"):
        if code_fence:
            if re.fullmatch(rf"{code_fence}\s*", line):
                code_fence = None
            continue
        m = re.match(r"^(`{3,}|:{3,})(.*)$", line)
        if m:
            fence, rest = m.group(1), m.group(2).strip()
            if rest.startswith("{"):
                stack.append(fence)
                continue
            if not rest and stack and stack[-1] == fence:
                stack.pop()
                continue
            code_fence = re.escape(fence)
            continue
        out.append(line)
    return "\n".join(out)


def _strip_markup(md: str) -> str:
    md = re.sub(r"<!--.*?-->", " ", md, flags=re.S)
    md = re.sub(r"\$\$.*?\$\$(\s*\([^)\s]+\))?", " ", md, flags=re.S)
    md = re.sub(r"(?<!\\)\$[^$\n]+?\$", " ", md)
    md = _drop_code_blocks(md)
    md = re.sub(r"^:\w[\w-]*:.*$", " ", md, flags=re.M)                # directive options
    md = re.sub(r"^\([\w-]+\)=\s*$", " ", md, flags=re.M)              # (label)=
    md = re.sub(r"\{(?:footcite|cite|footcite:p|cite:p)\}`[^`]*`", " ", md)
    md = re.sub(r"\{eq\}`[^`]*`", " (1) ", md)
    md = re.sub(r"\{glue(?::\w+)?\}`[^`]*`", " 1 ", md)
    md = re.sub(r"\{[\w:-]+\}`([^`<]*)(?:<[^>]*>)?`", r" \1 ", md)   # {term}`text <target>`
    return md


def prose_words(path: Path) -> int:
    text = "\n".join("".join(c["source"]) for c in _cells(path) if c["cell_type"] == "markdown")
    return len(re.findall(r"[A-Za-z0-9\u4e00-\u9fff][\w'’\u4e00-\u9fff-]*", _strip_markup(text)))


def visible_asserts(path: Path) -> tuple[int, int]:
    """(assert lines a reader sees unfolded, assert lines in folded solutions)."""
    visible = folded = 0
    inside = False
    for c in _cells(path):
        src = "".join(c["source"])
        if c["cell_type"] == "markdown":
            starts, ends = src.count("{solution-start}"), src.count("{solution-end}")
            inside = inside if starts == ends else starts > ends
            continue
        n = len(ASSERT_LINE.findall(src))
        tags = set(c.get("metadata", {}).get("tags", []))
        if tags & HIDDEN:
            continue
        if inside:
            folded += n
        else:
            visible += n
    return visible, folded


def table() -> str:
    rows = ["| chapter | prose words | visible assert lines | in folded solutions |",
            "|---|---:|---:|---:|"]
    for path in CHAPTERS:
        visible, folded = visible_asserts(path)
        rows.append(f"| {path.stem} | {prose_words(path)} | {visible} | {folded} |")
    return "\n".join(rows)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_is_textbook_length(path):
    words = prose_words(path)
    print(f"{path.name}: {words} prose words")
    assert words <= MAX_WORDS, f"{path.name} has {words} prose words (at most {MAX_WORDS})"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_checking_code_is_folded(path):
    visible, folded = visible_asserts(path)
    print(f"{path.name}: {visible} visible assert lines, {folded} in folded solutions")
    assert visible <= MAX_VISIBLE_ASSERTS, (
        f"{path.name} shows {visible} assert lines on the page: tag checking cells hide-input")


def test_word_counter_ignores_mathematics_and_markup():
    md = ("(ch-x)=\n# Title here\n\nSome $x = y + z$ words {term}`logits` and {eq}`eq-a` "
          "{footcite}`szegedy2016`.\n\n$$\na = b\n$$ (eq-a)\n\n```python\nprint(1)\n```\n"
          "```{exercise}\n:label: ex-a\n\nDo it.\n```\n")
    words = re.findall(r"[A-Za-z0-9][\w'’-]*", _strip_markup(md))
    assert words == ["Title", "here", "Some", "words", "logits", "and", "1", "Do", "it"]


def test_readme_shows_the_table():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert table() in readme, "README.md should show:\n" + table()


if __name__ == "__main__":
    sys.exit(print(table()))
