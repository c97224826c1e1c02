"""The chapter notebooks: committed clean, listed in the TOC, and each runs top to
bottom in a fresh kernel with no error and nothing on stderr."""

import json
import re
import shutil
from pathlib import Path

import pytest

from conftest import run_in_fresh_kernel

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))


def test_there_are_chapters():
    assert CHAPTERS, "no chapter notebooks found"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    dirty = [i for i, c in enumerate(nb["cells"])
             if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))]
    assert not dirty, f"{path.name}: cells {dirty} have outputs; run `jupyter nbconvert --clear-output --inplace`"
    assert nb["metadata"].get("kernelspec", {}).get("name") == "python3"
    assert "widgets" not in nb["metadata"], "widget state saved in the notebook metadata"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_file_name_pattern(path):
    assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", path.name)


def test_toc_lists_every_chapter_and_nothing_else():
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    listed = set(re.findall(r"file:\s*(chapters/\S+)", toc))
    on_disk = {f"chapters/{p.stem}" for p in CHAPTERS}
    assert listed == on_disk


# Appended to each chapter when it runs in a fresh kernel: a live slider moves
# continuously, so `plot` must draw values between the grid points too.
LIVE_PROBE = r"""
import gc as _gc, numbers as _numbers
from smoothmax.widgets import Slider as _Slider
_drawn = []
for _s in [o for o in _gc.get_objects() if isinstance(o, _Slider)]:
    for _p in _s.params:
        _grid = sorted(_p._values) if all(isinstance(v, _numbers.Real) and not isinstance(v, bool)
                                          for v in _p._values) else []
        _ints = all(isinstance(v, _numbers.Integral) for v in _grid)
        for _a, _b in zip(_grid, _grid[1:]):
            _mid = (_a + _b) // 2 if _ints else (_a + _b) / 2
            if _mid in (_a, _b):
                continue
            _png = _s.live_frame(**{**_s.initial, _p.name: _mid})
            assert _png.startswith(b"\x89PNG"), (_p.name, _mid)
            _drawn.append((_p.name, _mid))
print("live slider values between grid points drawn:", len(_drawn))
"""


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_runs_in_a_fresh_kernel(path, tmp_path):
    """Run as a reader would after `make lab`: fresh kernel, top to bottom; then move
    every slider to values between its grid points, as a live slider does."""
    import nbformat

    work = tmp_path / "chapters"
    shutil.copytree(path.parent, work)
    nb = nbformat.read(work / path.name, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(LIVE_PROBE))
    nbformat.write(nb, work / path.name)
    stderr = run_in_fresh_kernel(work / path.name)
    assert not stderr, f"cells wrote to stderr: {stderr}"


def _glossary_terms():
    """(term, chapter that introduces it) from glossary.md's `{glossary}` block."""
    text = (ROOT / "glossary.md").read_text(encoding="utf-8")
    block = text[text.index("```{glossary}"):]
    return [(term, int(re.search(r"Chapters? (\d)", body).group(1)))
            for term, body in re.findall(r"^(\w[^\n]*)\n((?:  [^\n]*\n?)+)", block, re.M)]


def test_the_glossary_has_english_and_chinese_terms():
    terms = _glossary_terms()
    assert len(terms) >= 30
    text = (ROOT / "glossary.md").read_text(encoding="utf-8")
    for chinese in ["交叉熵", "标签平滑", "温度", "覆盖", "过度自信"]:
        assert chinese in text


@pytest.mark.parametrize("term, chapter", _glossary_terms(), ids=lambda x: str(x))
def test_each_glossary_term_is_linked_from_its_chapter(term, chapter):
    path = next(p for p in CHAPTERS if int(p.name[:2]) == chapter)
    text = "".join("".join(c["source"]) for c in json.loads(path.read_text(encoding="utf-8"))["cells"]
                   if c["cell_type"] == "markdown")
    roles = re.findall(r"\{term\}`([^`]*)`", text)
    targets = {re.sub(r"^.*<(.*)>$", r"\1", r).strip().lower() for r in roles}
    assert term.lower() in targets, f"chapter {chapter} never links {{term}}`{term}`"


# What provides each third-party module a chapter imports, as named in requirements.txt.
PROVIDED_BY = {"numpy": "numpy", "sympy": "sympy", "mpmath": "mpmath", "matplotlib": "matplotlib",
               "scipy": "scipy", "ipywidgets": "ipywidgets", "PIL": "pillow", "IPython": "ipykernel",
               "myst_nb": "jupyter-book", "smoothmax": "-e ./lib"}


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_every_import_is_a_reader_requirement(path):
    """`make book` installs requirements.txt only: a chapter must not need a test tool."""
    import sys

    requirements = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    listed = {re.split(r"[=<>\s]", line.strip())[0] if not line.startswith("-e") else "-e ./lib"
              for line in requirements.splitlines() if line.strip() and not line.startswith(("#", "-c"))}
    code = "\n".join("".join(c["source"]) for c in json.loads(path.read_text(encoding="utf-8"))["cells"]
                     if c["cell_type"] == "code")
    modules = set(re.findall(r"^\s*(?:from|import)\s+([A-Za-z_]\w*)", code, re.M))
    for module in sorted(modules - set(sys.stdlib_module_names)):
        assert module in PROVIDED_BY, f"{path.name} imports {module}: add it to PROVIDED_BY and requirements.txt"
        assert PROVIDED_BY[module] in listed, f"{path.name} imports {module}, but requirements.txt lacks it"
