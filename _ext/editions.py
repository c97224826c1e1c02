"""The Chinese edition (中文版): what Sphinx's gettext i18n needs from this book.

The Chinese pages are built from the same notebooks with ``language: zh_CN``
and the catalogs in ``locales/zh_CN/LC_MESSAGES`` (``tools/i18n.py``; README,
"The Chinese edition").  What the stock machinery does not do here:

* Outputs and display math stay single-source.  Every text node inside a cell
  output (a results table a hidden cell prints) and every display formula is
  marked ``translatable = False`` before the Locale transform and the gettext
  builder see it, so neither lands in the catalogs: the numbers come from the
  executed notebook in both editions and a formula the English build checks
  (``tests/test_equations.py``) is the formula the Chinese page shows.  (Tables in a
  directive, which MyST leaves without a source line, are made translatable here.)
* Glue in a translation.  Sphinx parses each translated paragraph as a new
  small document (``sphinx.transforms.i18n.publish_msgstr``); for a notebook
  MyST-NB parses it as plain MyST, after the notebook's renderer was removed
  from the page, so ``{glue:text}`key``` finds no data (myst-nb 1.4.0,
  ``myst_nb/ext/glue/utils.py``: "No key ... found in glue data").  The
  renderer of the notebook being read is remembered and lent to those small
  documents; nothing else changes.  ``tests/test_i18n.py`` checks that every
  glued number of an English page is on its Chinese page.
* Exercise titles.  sphinx-exercise 1.2.1 builds an exercise's own title without a source
  and rebuilds it in a post-transform, so gettext never sees it, and it titles the solution
  from a copy of the exercise made before translation; both are mended here
  (``tests/test_i18n.py::test_chinese_exercise_and_solution_titles``).
* The font.  The Chinese pages load ``_static/smx-cjk-zh.css`` (a subset of Noto Sans CJK SC
  with every character of the translations, ``tools/cjk_font.py``) instead of the English
  pages' small one.
* Search.  Sphinx's Chinese search splits words with jieba; a user dictionary made from
  ``locales/zh_CN/terms.tsv`` keeps the book's terms (交叉熵, 标签平滑, ...) whole.
* Page-by-page links.  Every page links to the same page of the other edition
  (a button in the article header and ``<link rel="alternate" hreflang>``).
  The English site is ``_build/html``, the Chinese one ``_build/html/zh``.
"""

from __future__ import annotations

from pathlib import Path

from docutils import nodes
from sphinx.builders.gettext import MsgOrigin
from sphinx.transforms import SphinxTransform
from sphinx.util.i18n import docname_to_domain
from sphinx_exercise.nodes import exercise_subtitle

ZH = "zh_CN"
LANG_TAG = {"en": "en", ZH: "zh-CN"}


class SingleSource(SphinxTransform):
    """Cell outputs and display math are not translated (priority before Locale's 20)."""

    default_priority = 5

    def apply(self, **kwargs):
        for container in self.document.findall(nodes.container):
            if "cell_output" in container.get("classes", []):
                for node in container.findall(nodes.TextElement):
                    node["translatable"] = False
        for node in self.document.findall(nodes.math_block):
            node["translatable"] = False
        # Tables inside a directive's content (the admonitions of sources.md) come out of MyST
        # without a source, which Sphinx takes for text it generated itself and never translates.
        for table in self.document.findall(nodes.table):
            origin = next((a for a in _ancestors(table) if a.source), None)
            if origin is None:
                continue
            for node in table.findall(nodes.TextElement):
                if not node.source:
                    node.source, node.line = origin.source, origin.line
        # An exercise's own title (```{exercise} A wide gap is slow to undo```): sphinx-exercise
        # 1.2.1 builds it without a source or rawsource, so it is given those of its exercise
        # and the Locale transform translates it.  Its post-transform then rebuilds the title
        # from fresh nodes, which the gettext builder (extracting after post-transforms) never
        # sees, so the title goes into the catalog here, while the page is read.
        for node in self.document.findall(exercise_subtitle):
            if not node.source:
                origin = next((a for a in _ancestors(node) if a.source), self.document)
                node.source, node.line = origin.source or self.document["source"], origin.line
                node.rawsource = node.rawsource or node.astext()
            if self.app.builder.name == "gettext":
                domain = docname_to_domain(self.env.docname, self.config.gettext_compact)
                self.app.builder.catalogs[domain].add(node.rawsource, MsgOrigin(node.source, node.line))


class TranslatedExerciseTitles(SphinxTransform):
    """After Locale (20): sphinx-exercise 1.2.1 keeps a copy of each exercise, made before
    translation, and titles its solution ("Solution to Exercise 8 (...)") from that copy;
    the copy is refreshed from the translated exercise."""

    default_priority = 25

    def apply(self, **kwargs):
        registry = getattr(self.env, "sphinx_exercise_registry", {})
        for node in self.document.findall(exercise_subtitle):
            exercise = node.parent.parent
            entry = registry.get(exercise.get("label"))
            if entry is not None and entry["docname"] == self.env.docname:
                entry["node"] = exercise.deepcopy()


def _ancestors(node):
    while node is not None:
        yield node
        node = node.parent


# --- glue in translated paragraphs -------------------------------------------------------
_current = {"renderer": None}


def _patch_glue():
    import myst_nb.ext.glue.directives as glue_directives
    import myst_nb.ext.glue.roles as glue_roles
    import myst_nb.sphinx_ as nb_sphinx
    from myst_nb.ext.glue import utils as glue_utils

    if getattr(glue_utils, "_smx_patched", False):
        return
    original_load = nb_sphinx.load_renderer
    original_retrieve = glue_utils.retrieve_glue_data

    def load_renderer(name):
        cls = original_load(name)

        def make(*args, **kwargs):
            renderer = cls(*args, **kwargs)
            _current["renderer"] = renderer
            return renderer

        return make

    def retrieve_glue_data(document, key):
        source = document.get("source") or ""
        renderer = _current["renderer"]
        if "nb_renderer" not in document and "<translated>" in source and renderer is not None:
            document.attributes["nb_renderer"] = renderer
            try:
                return original_retrieve(document, key)
            finally:
                document.attributes.pop("nb_renderer")
        return original_retrieve(document, key)

    nb_sphinx.load_renderer = load_renderer
    for module in (glue_utils, glue_roles, glue_directives):
        module.retrieve_glue_data = retrieve_glue_data
    glue_utils._smx_patched = True


# --- links between the editions ----------------------------------------------------------
def other_edition(language: str, pagename: str) -> tuple[str, str, str]:
    """(href relative to the page, its hreflang, the link text) of the page in the other edition."""
    up = "../" * pagename.count("/")
    if language == ZH:
        return f"{up}../{pagename}.html", "en", "English"
    return f"{up}zh/{pagename}.html", "zh-CN", "中文"


def page_context(app, pagename, templatename, context, doctree):
    if app.builder.name != "html":
        return
    language = app.config.language or "en"
    href, hreflang, text = other_edition(language, pagename)
    context["smx_other_edition"] = {"href": href, "hreflang": hreflang, "text": text}
    context["metatags"] = context.get("metatags", "") + (
        f'\n    <link rel="alternate" hreflang="{hreflang}" href="{href}" />'
    )


def search_dictionary(app, config) -> str:
    """A jieba user dictionary of the book's Chinese terms (locales/zh_CN/terms.tsv), so that
    search indexes 交叉熵 as a word and not only 交叉 + 熵 (sphinx/search/zh.py loads it)."""
    words = []
    table = Path(app.confdir) / "locales" / ZH / "terms.tsv"
    for line in table.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            _english, chinese, *others = line.split("\t")
            words += [chinese, *(others[0].split("|") if others else [])]
    path = Path(app.outdir).parent / "jieba-terms.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{w} 100000\n" for w in dict.fromkeys(words)
                            if any("\u4e00" <= c <= "\u9fff" for c in w) and " " not in w),
                    encoding="utf-8")
    return str(path)


def add_switch(app, config):
    # One font per edition: the Chinese edition's subset holds all its characters.  Jupyter Book
    # adds every CSS file of _static to html_css_files, so the other edition's is dropped here.
    zh = config.language == ZH
    keep, drop = ("smx-cjk-zh.css", "smx-cjk.css") if zh else ("smx-cjk.css", "smx-cjk-zh.css")
    names = [css if isinstance(css, str) else css[0] for css in config.html_css_files]
    config.html_css_files = [css for css, name in zip(config.html_css_files, names) if name != drop]
    if keep not in names:
        config.html_css_files.append(keep)
    if zh:
        config.html_search_options = {**(config.html_search_options or {}),
                                      "dict": search_dictionary(app, config)}
    options = config.html_theme_options
    end = list(options.get("article_header_end", ["article-header-buttons.html"]))
    if "lang-switch.html" not in end:
        options["article_header_end"] = ["lang-switch.html", *end]


def setup(app):
    _patch_glue()
    app.add_transform(SingleSource)
    app.add_transform(TranslatedExerciseTitles)
    app.connect("config-inited", add_switch)
    app.connect("html-page-context", page_context)
    return {"parallel_read_safe": False, "parallel_write_safe": True}
