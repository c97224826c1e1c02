"""Make the small Chinese font the book ships, so 中文 shows on machines without CJK fonts.

    python tools/cjk_font.py            (needs Debian's fonts-noto-cjk: apt-get install fonts-noto-cjk)

The glossary, the intro and the sidebar hold a few hundred Chinese characters.
A reader whose system has no CJK font (a bare Linux install, a headless
browser) would see empty boxes, and the book loads nothing from the network.
This script collects every CJK character of the book's sources, cuts those
glyphs out of Noto Sans CJK SC (SIL Open Font License) and writes

* ``_static/fonts/smx-cjk.woff``: the subset (tens of kilobytes), and
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
    from fontTools import subset
    from fontTools.ttLib import TTCollection

    if not NOTO.exists():
        print(f"{NOTO} not found: apt-get install fonts-noto-cjk", file=sys.stderr)
        return 1
    chars = cjk_characters(book_texts())
    index = next(i for i, f in enumerate(TTCollection(NOTO).fonts) if f["name"].getDebugName(4) == FAMILY)
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
    OUT.parent.mkdir(parents=True, exist_ok=True)
    subset.save_font(font, str(OUT), options)
    (OUT.parent / "OFL.txt").write_text(
        "The file smx-cjk.woff is a subset of Noto Sans CJK SC (Adobe, Google), made by\n"
        "tools/cjk_font.py. It is distributed under the SIL Open Font License 1.1, below.\n\n"
        + _ofl_text(), encoding="utf-8")
    print(f"{OUT.relative_to(ROOT)}: {len(chars)} characters, {OUT.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
