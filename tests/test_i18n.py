"""The Chinese edition (中文版): complete catalogs, and pages that match the English ones.

* Catalogs: every message translated, none fuzzy, every translation keeps its message's
  formulas, roles and code, and shows the book's term for each glossary link
  (``tools/i18n.py check``); the catalogs hold every message of the current English text.
* Pages (``make book`` has built both editions): each page has its twin and links to it,
  ``<html lang>`` is right, the Chinese pages show the English pages' numbers and formulas
  (single-source), no MyST markup leaks into the text, the text is Chinese, search finds
  Chinese words.  Offline loading, MathJax, sliders, page weight and axe run on the Chinese
  pages too (tests/test_browser.py, tests/test_a11y.py: they take every built page).
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

import pytest
from conftest import HTML_DIR, ROOT, load

sys.path.insert(0, str(ROOT / "tools"))
import i18n  # noqa: E402

ZH = HTML_DIR / "zh"
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
SKIP = ["script", "style", "pre", "code", "mjx-container"]
SKIP_CLASSES = ["math", "cell_output", "cell_input", "highlight"]


def _pages(root: Path) -> list[str]:
    skip = {"_static", "_sources", "_images", "_downloads", "zh"}
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.html")
                  if not set(p.relative_to(root).parts[:-1]) & skip)


def _soup(path: Path):
    from bs4 import BeautifulSoup

    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def _prose(path: Path) -> str:
    """The article's text without code, formulas, cell outputs and scripts."""
    soup = _soup(path)
    article = soup.find("article") or soup.body
    for tag in article.find_all(SKIP):
        tag.decompose()
    for cls in SKIP_CLASSES:
        for tag in article.find_all(class_=cls):
            tag.decompose()
    return article.get_text(" ")


# -- catalogs -----------------------------------------------------------------------------
def test_every_message_is_translated(capsys):
    counts = i18n.check(sorted(i18n.CATALOGS.rglob("*.po")))
    report = capsys.readouterr().out
    assert counts["messages"] > 600, counts
    bad = {k: counts.get(k, 0) for k in ("untranslated", "fuzzy", "markup")}
    assert not any(bad.values()), (
        f"{bad} of {counts['messages']} messages (translate them in locales/zh_CN, see README):\n"
        + report[-4000:])


def test_catalogs_hold_every_message_of_the_english_text(tmp_path):
    """An English change must reach the catalogs (`make translations`), where it shows up
    untranslated or fuzzy; a catalog that lacks a current message is out of date."""
    import polib

    assert i18n._sphinx("gettext", "en", tmp_path / "gettext") == 0
    missing = []
    for pot in sorted((tmp_path / "gettext").rglob("*.pot")):
        name = pot.relative_to(tmp_path / "gettext").with_suffix(".po")
        po = i18n.CATALOGS / name
        have = {e.msgid for e in polib.pofile(str(po)) if not e.obsolete} if po.exists() else set()
        missing += [f"{name}: {e.msgid[:70]!r}" for e in polib.pofile(str(pot)) if e.msgid not in have]
    assert not missing, (f"{len(missing)} English messages are not in locales/zh_CN "
                         "(run `make translations`, then translate):\n" + "\n".join(missing[:20]))


@pytest.mark.parametrize("msgid, msgstr, damage", [
    ("Scores $z_j$ and {eq}`eq-softmax`.", "分数 $z_j$ 与 {eq}`eq-softmax`。", None),
    ("Scores $z_j$.", "分数 $z_i$。", "math"),
    ("is {glue:text}`a4:.4f` here", "这里是 {glue:text}`a4:.3f`", "role"),
    ("see {eq}`eq-a`", "见式 (1)", "role"),
    ("call `softmax(z)`", "调用 softmax(z)", "code"),
    ("the {term}`Jacobian`", "{term}`雅可比矩阵 <Jacobian>`", None),
    ("the {term}`Jacobian`", "{term}`雅可比矩阵 <Hessian>`", "role"),
    ("the {term}`Jacobian`", "{term}`海森矩阵 <Jacobian>`", "term"),
])
def test_the_checker_catches_damaged_translations(msgid, msgstr, damage):
    problems = i18n.markup_problems(msgid, msgstr) + i18n.term_problems(msgstr, i18n.terminology())
    if damage is None:
        assert not problems, problems
    else:
        assert any(p.startswith(damage) for p in problems), problems


# -- pages --------------------------------------------------------------------------------
def test_every_page_has_a_chinese_twin_and_they_link_to_each_other():
    english, chinese = _pages(HTML_DIR), _pages(ZH)
    assert english and english == chinese, (set(english) ^ set(chinese))
    for name in english:
        for path, lang, twin in ((HTML_DIR / name, "en", ZH / name), (ZH / name, "zh-CN", HTML_DIR / name)):
            soup = _soup(path)
            if soup.html is None:  # index.html: a redirect to the first page, in each edition
                assert 'url=intro.html"' in str(soup), path
                continue
            assert soup.html.get("lang") == lang, f"{path}: <html lang={soup.html.get('lang')}>"
            switch = soup.select_one("a.smx-lang-switch")
            assert switch is not None, f"{path}: no link to the other edition"
            target = (path.parent / switch["href"]).resolve()
            assert target == twin.resolve(), f"{path}: links to {target}, not {twin}"
            alternate = soup.select_one('link[rel="alternate"][hreflang]')
            assert alternate and (path.parent / alternate["href"]).resolve() == twin.resolve()


def _chapters():
    return sorted(p.relative_to(HTML_DIR).as_posix() for p in (HTML_DIR / "chapters").glob("*.html"))


@pytest.mark.parametrize("name", _chapters())
def test_chinese_chapter_shows_the_same_numbers_formulas_and_outputs(name):
    """Glued numbers, display formulas, cell outputs and the notebook download come from the
    one executed notebook (translations cannot change them)."""
    en, zh = _soup(HTML_DIR / name), _soup(ZH / name)

    def texts(soup, selector):
        return Counter(" ".join(t.get_text().split()) for t in soup.select(selector))

    for soup in (en, zh):  # slider labels are translated (figures.po), the values are not
        for label in soup.select(".smx-name"):
            label.decompose()

    glued = texts(en, ".pasted-text, .pasted-inline")
    assert glued, f"{name}: no glued value on the English page"
    assert texts(zh, ".pasted-text, .pasted-inline") == glued
    assert texts(zh, "div.math") == texts(en, "div.math")
    assert texts(zh, ".cell_output") == texts(en, ".cell_output")
    assert texts(zh, "span.math") == texts(en, "span.math")
    downloads = [a["href"] for a in zh.select("a[href$='.ipynb']")]
    assert downloads and all((ZH / name).parent.joinpath(h).resolve().is_file() for h in downloads)


@pytest.mark.parametrize("name", _chapters())
def test_chinese_alt_texts_and_slider_labels(name):
    """Alt texts and slider names of the outputs come in Chinese (figures.po), with the frame's numbers."""
    en, zh = _soup(HTML_DIR / name), _soup(ZH / name)
    alts_en = [i.get("alt", "") for i in en.select(".cell_output img")]
    alts_zh = [i.get("alt", "") for i in zh.select(".cell_output img")]
    assert len(alts_zh) == len(alts_en) > 0
    for english, chinese in zip(alts_en, alts_zh):
        assert CJK.search(chinese), f"{name}: alt text not translated: {english[:80]!r}"
        assert i18n.figure_template(english)[1] == i18n.figure_template(
            re.sub(r"\{(\d+)\}", "", chinese))[1] or sorted(i18n.NUMBER.findall(english)) == sorted(
            i18n.NUMBER.findall(chinese)), f"{name}: the numbers differ: {english[:80]!r} / {chinese[:80]!r}"
    for label in zh.select(".smx-name"):
        text = label.get_text()
        assert CJK.search(text) or not re.search(r"[A-Za-z]{2}", text), f"{name}: slider label {text!r}"
    for slider in zh.select("input[type=range][aria-valuetext]"):
        name_shown = slider.find_previous("span", class_="smx-name").get_text()
        assert slider["aria-valuetext"].startswith(name_shown + " = "), slider["aria-valuetext"]


@pytest.mark.parametrize("name", _chapters())
def test_chinese_exercise_and_solution_titles(name):
    """Every exercise's own title ("Exercise 8 (A wide gap is slow to undo)") and the solution
    that repeats it are translated: sphinx-exercise 1.2.1 hides them from gettext and titles a
    solution from a copy made before translation (_ext/editions.py fixes both)."""
    titles = {}
    for edition, root in (("en", HTML_DIR), ("zh", ZH)):
        soup = _soup(root / name)
        titles[edition] = [t.get_text(" ", strip=True) for t in soup.select(
            "div.exercise p.admonition-title, div.solution p.admonition-title")]
    assert len(titles["zh"]) == len(titles["en"]), name
    own = [re.search(r"\((.+)\)\s*$", t) for t in titles["en"]]
    for english, chinese, m in zip(titles["en"], titles["zh"], own):
        if m:  # a titled exercise, or its solution
            assert m.group(1) not in chinese and CJK.search(chinese.rsplit("(", 1)[-1]), \
                f"{name}: {english!r} shows as {chinese!r}"


@pytest.mark.parametrize("name", _chapters())
def test_chinese_fold_hints(name):
    """The hint on a folded solution ("Click to show", written by sphinx-togglebutton's script)
    and the label of a folded code cell ("Show code cell source", myst-nb)."""
    english, chinese = (re.findall(r"let toggleHint(?:Show|Hide) = '([^']*)'",
                                   (root / name).read_text(encoding="utf-8")) for root in (HTML_DIR, ZH))
    assert english == ["Click to show", "Click to hide"], english
    assert len(chinese) == 2 and all(CJK.search(h) for h in chinese), chinese
    english, chinese = ([p.get_text() for p in _soup(root / name).select(
        "p.collapsed.admonition-title, p.expanded.admonition-title")] for root in (HTML_DIR, ZH))
    assert len(chinese) == len(english) > 0 and "Show code cell source" in english, name
    assert all(CJK.search(label) for label in chinese), sorted(set(chinese))


@pytest.mark.parametrize("name", _pages(ZH))
def test_chinese_page_is_chinese_and_has_no_raw_markup(name):
    if _soup(ZH / name).html is None:  # index.html, a redirect (checked above)
        return
    text = _prose(ZH / name)
    leaks = re.findall(r"\{(?:term|glue|eq|numref|ref|footcite|cite|doc)[:}]|`|\*\*|(?<!\w)\*(?!\s)|\$", text)
    assert not leaks, f"{name}: MyST markup in the text: {leaks[:10]}"
    if name in ("genindex.html", "search.html", "bibliography.html", "prf-prf.html"):
        return
    chinese = len(CJK.findall(text))
    latin = len(re.findall(r"[A-Za-z]", text))
    assert chinese > latin, f"{name}: {chinese} Chinese characters against {latin} Latin letters"


@pytest.mark.browser
def test_chinese_search_finds_chinese_words(site, offline_page):
    """Sphinx's Chinese search splits the text into words with jieba (requirements.txt)."""
    import json

    text = (ZH / "searchindex.js").read_text(encoding="utf-8")
    terms = json.loads(text[text.index("(") + 1:text.rindex(")")])["terms"]
    for word in ("交叉熵", "标签平滑", "温度"):
        assert word in terms, f"{word} is not a word of the Chinese search index"
    page, problems = offline_page
    load(page, f"{site}/zh/search.html?q=交叉熵")
    results = page.locator("#search-results li a")
    results.first.wait_for(timeout=30_000)
    hrefs = [results.nth(i).get_attribute("href") for i in range(results.count())]
    assert any("02_cross_entropy" in h for h in hrefs), hrefs
    assert not problems, problems.report()
