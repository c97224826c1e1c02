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


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_runs_in_a_fresh_kernel(path, tmp_path):
    """Run as a reader would after `make lab`: fresh kernel, top to bottom."""
    work = tmp_path / "chapters"
    shutil.copytree(path.parent, work)
    stderr = run_in_fresh_kernel(work / path.name)
    assert not stderr, f"cells wrote to stderr: {stderr}"
