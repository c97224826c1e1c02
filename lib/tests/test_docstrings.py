"""Every public function documents itself to the book's standard: numpydoc
sections, an accuracy statement, and a pointer to the chapter that derives it
(a chapter that exists and uses the function)."""

import re
from pathlib import Path

import pytest

import smoothmax as sm

CHAPTERS = Path(__file__).resolve().parents[2] / "chapters"

# The chapter that derives each public function.
CHAPTER_OF = {
    "logsumexp": "01_softmax", "softmax": "01_softmax", "log_softmax": "01_softmax",
    "softmax_jacobian": "01_softmax", "softmax_jvp": "01_softmax",
    "cross_entropy": "02_cross_entropy", "cross_entropy_grad": "02_cross_entropy",
    "smooth_labels": "03_label_smoothing", "optimal_logit_gap": "03_label_smoothing",
    "coverage": "04_coverage", "coverage_loss": "04_coverage",
    "coverage_loss_grad": "04_coverage", "attention_with_coverage": "04_coverage",
    "pointer_generator": "04_coverage",
    "smooth_max": "05_temperature", "normface_loss_bound": "05_temperature",
    "normface_scale_for_probability": "05_temperature",
}
SECTIONS = ("Parameters", "Returns", "Raises", "Notes", "References", "Examples", "Accuracy")


def test_every_public_function_is_listed():
    assert sorted(sm.__all__) == sorted(CHAPTER_OF)


@pytest.mark.parametrize("name", sorted(CHAPTER_OF))
def test_docstring_points_to_its_chapter(name):
    doc = getattr(sm, name).__doc__
    slug = CHAPTER_OF[name]
    number = int(slug[:2])
    assert f"Derived in chapter {number} of the book (chapters/{slug}.ipynb)" in doc
    for section in SECTIONS:
        assert section in doc, (name, section)
    nb = CHAPTERS / f"{slug}.ipynb"
    if nb.exists():  # the lib is also tested on its own, outside the book
        assert re.search(rf"\b{name}\b", nb.read_text(encoding="utf-8")), \
            f"chapter {slug} never uses {name}"


def test_core_is_short_enough_to_read():
    """The reference implementation stays readable (issue 14): core.py, docstrings
    included, under 500 lines, the size at which the speed tuning was removed."""
    lines = (Path(sm.__file__).parent / "core.py").read_text(encoding="utf-8").splitlines()
    assert len(lines) < 500, f"core.py has {len(lines)} lines"
