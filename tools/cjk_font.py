"""Make the small Chinese font the book ships, so 中文 shows on machines without CJK fonts.

    python tools/cjk_font.py            (needs Debian's fonts-noto-cjk: apt-get install fonts-noto-cjk)

The glossary, the intro and the sidebar hold a few hundred Chinese characters.
A reader whose system has no CJK font (a bare Linux install, a headless
browser) would see empty boxes, and the book loads nothing from the network.
This script collects every CJK character of the book's sources, cuts those
glyphs out of Noto Sans CJK SC (SIL Open Font License) and writes

* ``_static/fonts/smx-cjk.woff``: the subset for the English pages (tens of kilobytes),
* ``_static/fonts/smx-cjk-zh.woff``: the Chinese edition's subset, every character of the
  translations (locales/) and of the Chinese user interface of Sphinx and the themes, and
* ``_static/fonts/OFL.txt``: the font's licence, which must travel with it.

``_static/smx-cjk.css`` puts the font first in the theme's font stack with a
``unicode-range``, so browsers use it for CJK characters only and only when a
page has some.  ``tests/test_build.py`` fails when a page shows a CJK
character the subset lacks: run this script again after adding Chinese text.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTO = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
NOTO_LICENSE = Path("/usr/share/doc/fonts-noto-cjk/copyright")
FAMILY = "Noto Sans CJK SC"
OUT = ROOT / "_static" / "fonts" / "smx-cjk.woff"
# The Chinese edition's font (_static/smx-cjk-zh.css; _ext/editions.py swaps the CSS in).
OUT_ZH = ROOT / "_static" / "fonts" / "smx-cjk-zh.woff"
SITE_PACKAGES = Path(sys.prefix) / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"
# Chinese the builders and themes write on a zh_CN page (their own message catalogs).
UI_CATALOGS = [
    "sphinx/locale/zh_CN/LC_MESSAGES/sphinx.po",
    "pydata_sphinx_theme/locale/zh/LC_MESSAGES/sphinx.po",
    "sphinx_book_theme/theme/sphinx_book_theme/static/locales/zh_CN/LC_MESSAGES/booktheme.po",
]

# CJK punctuation, ideographs (incl. extension A) and full-width forms; the
# same ranges as the @font-face unicode-range in _static/smx-cjk.css.
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")


def book_texts():
    """The text of every source that reaches a page."""
    for path in sorted(ROOT.glob("*.md")):          # intro, glossary, sources, bibliography, ...
        if path.name not in ("README.md", "ERRATA.md"):
            yield path.read_text(encoding="utf-8")
    for name in ["_toc.yml", "_config.yml", "references.bib"]:
        yield (ROOT / name).read_text(encoding="utf-8")
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            yield "".join(cell["source"])


def zh_texts():
    """The Chinese edition's text: the English sources (their Chinese stays), every translation,
    and the user-interface strings of Sphinx and the themes."""
    import polib

    yield from book_texts()
    # words the build writes into the Chinese pages itself (theme labels, folded-cell labels)
    yield (ROOT / "tools" / "i18n.py").read_text(encoding="utf-8")
    for path in sorted((ROOT / "_templates").glob("*.html")):
        yield path.read_text(encoding="utf-8")
    catalogs = sorted((ROOT / "locales").rglob("*.po")) + [SITE_PACKAGES / c for c in UI_CATALOGS]
    for path in catalogs:
        for entry in polib.pofile(str(path)):
            yield entry.msgstr
            yield from entry.msgstr_plural.values()


def cjk_characters(texts) -> set[str]:
    return {ch for text in texts for ch in CJK.findall(text)}


def _ofl_text() -> str:
    """The font's copyright line and the OFL text from Debian's copyright file."""
    text = NOTO_LICENSE.read_text(encoding="utf-8")
    copyright_line = re.search(r"^Files: \*\nCopyright: (.*)$", text, re.M).group(1)
    body = text[text.index("\nLicense: SIL-1.1\n", text.index("Files: debian/*")) + 1:]
    body = body[:body.index("\nLicense: ", 1)]
    lines = [line[1:] if line.startswith(" ") else line for line in body.splitlines()[1:]]
    return f"Copyright {copyright_line}\n\n" + "\n".join("" if l == "." else l for l in lines) + "\n"


def main() -> int:
    from fontTools.ttLib import TTCollection

    if not NOTO.exists():
        print(f"{NOTO} not found: apt-get install fonts-noto-cjk", file=sys.stderr)
        return 1
    index = next(i for i, f in enumerate(TTCollection(NOTO).fonts) if f["name"].getDebugName(4) == FAMILY)
    for out, texts in ((OUT, book_texts()), (OUT_ZH, zh_texts())):
        chars = cjk_characters(texts)
        write_subset(index, chars, out)
        print(f"{out.relative_to(ROOT)}: {len(chars)} characters, {out.stat().st_size} bytes")
    (OUT.parent / "OFL.txt").write_text(
        "The files smx-cjk.woff and smx-cjk-zh.woff are subsets of Noto Sans CJK SC (Adobe, Google),\n"
        "made by tools/cjk_font.py. They are distributed under the SIL Open Font License 1.1, below.\n\n"
        + _ofl_text(), encoding="utf-8")
    return 0


def write_subset(index: int, chars: set[str], out: Path) -> None:
    from fontTools import subset

    options = subset.Options()
    options.flavor = "woff"
    options.font_number = index
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]  # keep copyright and licence names
    options.layout_features = []
    options.hinting = False
    options.desubroutinize = True
    font = subset.load_font(str(NOTO), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(ord(c) for c in chars))
    subsetter.subset(font)
    # deterministic output: no modification time in the head table
    font["head"].modified = font["head"].created
    out.parent.mkdir(parents=True, exist_ok=True)
    subset.save_font(font, str(out), options)


if __name__ == "__main__":
    sys.exit(main())
