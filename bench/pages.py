"""Weight of each chapter page and the number of static slider frames in it.

Parses ``_build/html/chapters/<name>.html`` (no browser):

* *page weight* = the HTML file (static slider frames are ``data:`` URIs
  inside it) + every local image/media file it references outside
  ``_static/`` (chapter-specific, e.g. ``_images/*.png``).  Goal: <= 2 MB
  (2 * 1024 * 1024 bytes, as in tests/test_browser.py).
* *shared* = the scripts and style sheets it references and images under
  ``_static/`` (theme, MathJax loader, search index): the same for every page
  and cached once, so reported separately, not in the page weight.  (MathJax
  fonts and components loaded later by script are not counted.)
* *frames* = ``<img data-key=...>`` elements, i.e. the frames of the static
  sliders made by ``smoothmax.widgets.Slider.static_html``; *sliders* =
  ``<figure class="smx-slider">``; *inputs* = their range inputs.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

PAGE_GOAL_BYTES = 2 * 1024 * 1024


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.urls: set[tuple[str, bool]] = set()  # (url, is media)
        self.frames = self.sliders = self.inputs = 0
        self.frame_bytes = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = (a.get("class") or "").split()
        if tag == "figure" and "smx-slider" in cls:
            self.sliders += 1
        if tag == "input" and a.get("type") == "range" and (a.get("id") or "").startswith("smx-"):
            self.inputs += 1
        if tag == "img" and "data-key" in a:
            self.frames += 1
            self.frame_bytes += len(a.get("src") or "")
        media = tag in ("img", "source", "video", "audio", "embed", "object")
        url = a.get("data") if tag == "object" else a.get("src")
        if tag == "link" and set((a.get("rel") or "").split()) & {"stylesheet", "preload", "icon"}:
            url = a.get("href")
        elif tag not in ("script", "link") and not media:
            url = None
        if url and not url.startswith("data:"):
            self.urls.add((url, media))


def page_stats(html_dir: Path, page: str) -> dict:
    """Weights (bytes) and slider counts of one page, e.g. ``chapters/01_softmax.html``."""
    path = html_dir / page
    parser = _Refs()
    parser.feed(path.read_text(encoding="utf-8"))
    chapter, shared, missing = {}, {}, []
    for url, media in sorted(parser.urls):
        parts = urlsplit(urljoin(f"http://local/{page}", url))
        if parts.netloc != "local":
            missing.append(url)  # not local: the offline tests forbid these
            continue
        rel = unquote(parts.path).lstrip("/")
        f = html_dir / rel
        if not f.is_file():
            missing.append(url)
            continue
        (chapter if media and not rel.startswith("_static/") else shared)[rel] = f.stat().st_size
    html_bytes = path.stat().st_size
    weight = html_bytes + sum(chapter.values())
    return {
        "html_bytes": html_bytes,
        "frame_bytes": parser.frame_bytes,
        "chapter_assets": chapter,
        "page_bytes": weight,
        "shared_bytes": sum(shared.values()),
        "shared_assets": len(shared),
        "unresolved": missing,
        "sliders": parser.sliders,
        "inputs": parser.inputs,
        "frames": parser.frames,
        "goal_bytes": PAGE_GOAL_BYTES,
        "met": weight <= PAGE_GOAL_BYTES,
    }
