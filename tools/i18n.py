"""The Chinese edition (中文版): catalogs and the Chinese build.

    python tools/i18n.py update     extract the English messages (Sphinx's gettext builder into
                                    _build/gettext) and merge them into locales/zh_CN/LC_MESSAGES/*.po
                                    (sphinx-intl): a new message arrives untranslated, a changed one
                                    keeps its old translation marked fuzzy
    python tools/i18n.py check [PO ...]
                                    count untranslated and fuzzy messages and check that every
                                    translation keeps its message's markup (math, roles, code);
                                    exit 1 on any problem
    python tools/i18n.py build      build the Chinese edition into _build/zh/html and copy it to
                                    _build/html/zh (after the English build: the notebooks' outputs
                                    come from the same execution cache)

The English text is the source: edit the notebooks and the .md files, run ``update``, translate
what is new or fuzzy in the .po files (remove the ``#, fuzzy`` flag when done), run ``check``.
``make book`` runs ``build``; ``tests/test_i18n.py`` runs ``check`` and tests the built pages.

Alt texts and slider labels come from the notebooks' outputs, which are not translated: ``update``
collects them from the English pages (numbers as {0}, {1}, ...: one message per figure, whatever the
slider shows) into ``figures.po``, and ``build`` puts the translations into the Chinese pages.

What a translation must keep (``check``): every inline formula ``$...$`` verbatim, every glued
value, equation, citation and cross-reference role verbatim, every code literal verbatim, and
every ``{term}`` pointing at the same glossary entry (its shown text may be Chinese:
``{term}`对数几率 <logits>```).  The glossary keeps its English entry names, so a term's target
is the same in both editions.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LANGUAGE = "zh_CN"
LOCALES = ROOT / "locales"
CATALOGS = LOCALES / LANGUAGE / "LC_MESSAGES"
POT_DIR = ROOT / "_build" / "gettext"
ZH_OUT = ROOT / "_build" / "zh" / "html"
ZH_SITE = ROOT / "_build" / "html" / "zh"

# A role with its text: {name}`text`.
ROLE = re.compile(r"\{([\w:.-]+)\}`([^`]*)`")
MATH = re.compile(r"(?<![\\$])\$(?!\$)((?:\\.|[^$\\])+)\$")
CODE = re.compile(r"(?<![}`])`([^`]+)`")
# Roles whose shown text may be translated; only the target (inside <...>) must match.
TEXT_ROLES = {"term", "ref", "doc", "numref", "download"}


def _env():
    env = dict(os.environ)
    env.setdefault("IPYTHONDIR", str(ROOT / "_ext" / "ipython"))
    env.setdefault("MPLBACKEND", "Agg")
    env.setdefault("PYTHONHASHSEED", "0")
    return env


def _sphinx(builder: str, language: str, outdir: Path) -> int:
    """jupyter-book's Sphinx build, strict, with its own doctrees (they depend on builder and language)."""
    from jupyter_book.sphinx import build_sphinx

    os.environ.update({k: v for k, v in _env().items() if k not in os.environ})
    return build_sphinx(
        ROOT, outdir, noconfig=True, path_config=str(ROOT / "_config.yml"),
        confoverrides={"language": language, "external_toc_path": str(ROOT / "_toc.yml"),
                       "latex_individualpages": False, "nitpicky": True},
        doctreedir=str(outdir.parent / f".doctrees-{builder}-{language}"), builder=builder,
        warningiserror=True, keep_going=True, freshenv=builder == "gettext")


# -- figures: alt texts and slider labels that the notebooks' outputs carry -----------------
NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e[+-]?\d+)?(?![\w])")
PLACEHOLDER = re.compile(r"\{\d+\}")
ALT = re.compile(r'(<img\b[^>]*?\balt=")([^"]*)(")')
LABEL = re.compile(r'(<span class="smx-name">)([^<]*)(</span>)')
ENGLISH_SITE = ROOT / "_build" / "html"


def figure_template(text: str) -> tuple[str, list[str]]:
    """An alt text with its numbers as {0}, {1}, ... (one message for all frames of a slider)."""
    numbers = NUMBER.findall(text)
    counter = iter(range(len(numbers)))
    template = NUMBER.sub(lambda m: f"{{{next(counter)}}}", text.replace("{", "{{").replace("}", "}}"))
    return template, numbers


def figure_messages(site: Path) -> dict[str, str]:
    """msgid -> page: the alt text templates and slider labels of every chapter's outputs."""
    import html as html_lib

    messages = {}
    for page in sorted((site / "chapters").glob("*.html")):
        text = page.read_text(encoding="utf-8")
        for m in ALT.finditer(text):
            alt = html_lib.unescape(m.group(2))
            if alt and not alt.startswith("_images"):
                messages.setdefault(figure_template(alt)[0], page.stem)
        for m in LABEL.finditer(text):
            messages.setdefault(html_lib.unescape(m.group(2)), page.stem)
    return messages


def write_figures_pot(site: Path, pot: Path) -> None:
    import polib

    if not (site / "chapters").is_dir():
        raise SystemExit(f"{site} has no chapters: run `make book` first (alt texts come from its pages)")
    catalog = polib.POFile(wrapwidth=0)
    catalog.metadata = {"Content-Type": "text/plain; charset=UTF-8", "MIME-Version": "1.0",
                        "Content-Transfer-Encoding": "8bit"}
    for msgid, page in figure_messages(site).items():
        catalog.append(polib.POEntry(msgid=msgid, msgstr="", comment=f"chapters/{page}"))
    catalog.save(str(pot))


def localise_figures(site: Path, po_path: Path) -> int:
    """Alt texts and slider labels of the Chinese pages, from figures.po; returns how many."""
    import html as html_lib

    import polib

    table = {e.msgid: e.msgstr for e in polib.pofile(str(po_path))
             if e.msgstr and not e.obsolete and "fuzzy" not in e.flags}
    done = 0

    def alt(m):
        nonlocal done
        template, numbers = figure_template(html_lib.unescape(m.group(2)))
        if template not in table:
            return m.group(0)
        done += 1
        return m.group(1) + html_lib.escape(table[template].format(*numbers)) + m.group(3)

    def label(m):
        nonlocal done
        text = html_lib.unescape(m.group(2))
        if text not in table:
            return m.group(0)
        done += 1
        return m.group(1) + html_lib.escape(table[text], quote=False) + m.group(3)

    for page in (site / "chapters").glob("*.html"):
        text = page.read_text(encoding="utf-8")
        new = LABEL.sub(label, ALT.sub(alt, text))
        for m in LABEL.finditer(text):  # what screen readers hear: "margin m = 2" (aria-valuetext)
            english = html_lib.unescape(m.group(2))
            if english in table:
                for before in (f'aria-valuetext="{m.group(2)} = ', f'&quot;{m.group(2)} = '):
                    new = new.replace(before, before.replace(m.group(2), html_lib.escape(table[english])))
        if new != text:
            page.write_text(new, encoding="utf-8")
    return done


def update() -> None:
    from sphinx_intl import basic

    shutil.rmtree(POT_DIR, ignore_errors=True)
    if _sphinx("gettext", "en", POT_DIR):
        raise SystemExit("the gettext build failed")
    write_figures_pot(ENGLISH_SITE, POT_DIR / "figures.pot")
    basic.update(str(LOCALES), str(POT_DIR), (LANGUAGE,))
    for po_path in sorted(CATALOGS.rglob("*.po")):
        _fill_untranslatable(po_path)


def _fill_untranslatable(po_path: Path) -> None:
    """A message with nothing to translate (no letter outside math and roles) is its own translation."""
    import polib

    po = polib.pofile(str(po_path), wrapwidth=0)
    changed = False
    for entry in po:
        if "python-format" in entry.flags:  # Babel's guess from "1 % of"; the book has no %-formats
            entry.flags.remove("python-format")
            changed = True
        if entry.obsolete or (entry.msgstr and "fuzzy" not in entry.flags):
            continue
        bare = MATH.sub("", ROLE.sub("", CODE.sub("", entry.msgid)))
        if not re.search(r"[A-Za-z]", bare):
            entry.msgstr = entry.msgid
            if "fuzzy" in entry.flags:
                entry.flags.remove("fuzzy")
            changed = True
    if changed:
        po.save(str(po_path))


def _roles(text: str) -> Counter:
    out = Counter()
    for name, body in ROLE.findall(text):
        if name in TEXT_ROLES:
            m = re.search(r"<([^<>]+)>\s*$", body)
            body = (m.group(1) if m else body).strip().lower()
        out[(name, body)] += 1
    return out


def markup_problems(msgid: str, msgstr: str) -> list[str]:
    """What a translation lost or added of its message's markup (empty: it keeps all of it)."""
    problems = []
    checks = [("placeholder", lambda t: Counter(PLACEHOLDER.findall(t))), ("role", _roles), ("math", lambda t: Counter(MATH.findall(ROLE.sub("", t)))),
              ("code", lambda t: Counter(CODE.findall(ROLE.sub("", t))))]
    for what, collect in checks:
        source, target = collect(msgid), collect(msgstr)
        if source != target:
            lost = list((source - target).elements())
            added = list((target - source).elements())
            problems.append(f"{what}: lost {lost} added {added}")
    return problems


def terminology() -> dict[str, set[str]]:
    """Glossary entry (lower case) -> the forms a {term} link may show in Chinese (locales/zh_CN/terms.tsv)."""
    forms = {}
    for line in (LOCALES / LANGUAGE / "terms.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            english, chinese, *others = line.split("\t")
            forms[english.lower()] = {english, chinese, *(others[0].split("|") if others else [])}
    return forms


def term_problems(msgstr: str, forms: dict[str, set[str]]) -> list[str]:
    """{term} links that show a Chinese name other than the book's term for that entry."""
    problems = []
    for name, body in ROLE.findall(msgstr):
        if name != "term":
            continue
        m = re.match(r"(.*?)\s*<([^<>]+)>\s*$", body)
        shown, target = (m.group(1), m.group(2)) if m else (body, body)
        allowed = forms.get(target.strip().lower())
        if allowed is None:
            problems.append(f"term: {target!r} is not in terms.tsv")
        elif not any(form.lower() in shown.lower() for form in allowed):
            problems.append(f"term: {shown!r} for {target!r}, the book's term is {sorted(allowed)}")
    return problems


def glossary_entries() -> set[str]:
    text = (ROOT / "glossary.md").read_text(encoding="utf-8")
    block = text.split("```{glossary}")[1].split("```")[0]
    return set(re.findall(r"^(\S[^\n]*)$", block, re.M))


def check(paths: list[Path]) -> dict[str, int]:
    import polib

    forms, entries = terminology(), glossary_entries()
    counts = Counter()
    for po_path in paths:
        po = polib.pofile(str(po_path))
        name = po_path.relative_to(CATALOGS) if po_path.is_relative_to(CATALOGS) else po_path
        for entry in po:
            if entry.obsolete:
                continue
            counts["messages"] += 1
            if not entry.msgstr:
                counts["untranslated"] += 1
                print(f"{name}: untranslated: {entry.msgid[:70]!r}")
            elif "fuzzy" in entry.flags:
                counts["fuzzy"] += 1
                print(f"{name}: fuzzy: {entry.msgid[:70]!r}")
            else:
                problems = markup_problems(entry.msgid, entry.msgstr) + term_problems(entry.msgstr, forms)
                if po_path.name == "glossary.po" and entry.msgid in entries and entry.msgstr != entry.msgid:
                    problems.append("glossary entry names stay English (the {term} links' targets)")
                for problem in problems:
                    counts["markup"] += 1
                    print(f"{name}: {problem} in {entry.msgid[:60]!r}")
    print(f"{counts['messages']} messages: {counts['untranslated']} untranslated, "
          f"{counts['fuzzy']} fuzzy, {counts['markup']} with damaged markup")
    return dict(counts)


# Words the themes and extensions write in English only, replaced on the Chinese pages:
# sphinx-book-theme 1.3.0 hard-codes the attribute values in its templates, Sphinx 7.4.7's zh_CN
# catalog lacks the permalink titles, myst-nb 1.4.0's fold labels and sphinx-togglebutton
# 0.4.5's hint on a folded solution have no translations.
UI_WORDS = {
    'aria-label="Main"': 'aria-label="主导航"',
    'aria-label="Page"': 'aria-label="本页"',
    'aria-label="Search this book..."': 'aria-label="搜索本书…"',
    'placeholder="Search this book..."': 'placeholder="搜索本书…"',
    'title="Toggle primary sidebar"': 'title="显示或隐藏左侧边栏"',
    'title="Toggle secondary sidebar"': 'title="显示或隐藏右侧目录"',
    'title="Link to this heading"': 'title="链接到此标题"',
    'title="Link to this equation"': 'title="链接到此公式"',
    'title="Link to this definition"': 'title="链接到此定义"',
    'title="Link to this image"': 'title="链接到此图片"',
    'title="Link to this table"': 'title="链接到此表格"',
    'title="Link to this code"': 'title="链接到此代码"',
    'admonition-title">Show code cell source<': 'admonition-title">显示代码<',
    'admonition-title">Hide code cell source<': 'admonition-title">隐藏代码<',
    'admonition-title">Show code cell content<': 'admonition-title">显示代码单元格<',
    'admonition-title">Hide code cell content<': 'admonition-title">隐藏代码单元格<',
    "let toggleHintShow = 'Click to show';": "let toggleHintShow = '点击显示';",
    "let toggleHintHide = 'Click to hide';": "let toggleHintHide = '点击隐藏';",
}


def localise_ui(site: Path) -> int:
    """Give the Chinese pages the theme and extension words above in Chinese; returns the pages changed."""
    changed = 0
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        new = text
        for english, chinese in UI_WORDS.items():
            new = new.replace(english, chinese)
        if new != text:
            page.write_text(new, encoding="utf-8")
            changed += 1
    return changed


def build() -> int:
    result = _sphinx("html", LANGUAGE, ZH_OUT)
    if result:
        return result
    # myst-nb writes beside the output folder's parent, so the Chinese build has its own
    # folder and its pages are copied under the English site.
    shutil.rmtree(ZH_SITE, ignore_errors=True)
    shutil.copytree(ZH_OUT, ZH_SITE)
    localise_ui(ZH_SITE)
    localise_figures(ZH_SITE, CATALOGS / "figures.po")
    print(f"Chinese edition: {ZH_SITE.relative_to(ROOT)}")
    return 0


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"update", "check", "build"}:
        print(__doc__)
        return 2
    if argv[0] == "update":
        update()
        return 0
    if argv[0] == "build":
        return build()
    paths = [Path(p).resolve() for p in argv[1:]] or sorted(CATALOGS.rglob("*.po"))
    counts = check(paths)
    return 1 if counts.get("untranslated") or counts.get("fuzzy") or counts.get("markup") else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
