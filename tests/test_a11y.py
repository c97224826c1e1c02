"""axe-core on every built page: no "serious" or "critical" violation.

axe-core is used offline.  ``axe.min.js`` is looked up, in order, at
``$AXE_CORE_JS``, in the installed ``axe-playwright-python`` package (which
bundles it; a dev dependency), and in ``node_modules/axe-core/`` (the npm
package, if someone installed it).
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import pytest
from conftest import MISSING_BUILD, ROOT, html_pages, is_chapter, load, wait_for_mathjax

pytestmark = pytest.mark.a11y

FAIL_IMPACTS = {"serious", "critical"}

# axe's default rule set plus its "experimental" rules (among them
# label-content-name-mismatch, which a stock Jupyter Book header fails).
AXE_RUN_JS = """() => {
  const rules = {};
  for (const r of axe.getRules(["experimental"])) rules[r.ruleId] = {enabled: true};
  return axe.run(document, {resultTypes: ["violations"], rules});
}"""


def axe_script_path() -> Path | None:
    candidates: list[Path] = []
    if os.environ.get("AXE_CORE_JS"):
        candidates.append(Path(os.environ["AXE_CORE_JS"]))
    try:
        candidates.append(Path(str(resources.files("axe_playwright_python") / "axe.min.js")))
    except ModuleNotFoundError:
        pass
    candidates.append(ROOT / "node_modules" / "axe-core" / "axe.min.js")
    for c in candidates:
        if c.is_file():
            return c
    return None


@pytest.fixture(scope="session")
def axe_source() -> str:
    path = axe_script_path()
    if path is None:
        pytest.fail(
            "axe-core not found: install the dev requirements (axe-playwright-python bundles "
            "axe.min.js), or set AXE_CORE_JS to an axe.min.js",
            pytrace=False,
        )
    return path.read_text(encoding="utf-8")


def _format(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']} ({len(v['nodes'])} node(s)) {v['helpUrl']}")
        for node in v["nodes"][:8]:
            lines.append(f"    {' '.join(map(str, node['target']))}")
            lines.append(f"      {node['html'][:200]}")
            summary = (node.get("failureSummary") or "").replace("\n", "\n      ")
            if summary:
                lines.append(f"      {summary}")
        if len(v["nodes"]) > 8:
            lines.append(f"    ... {len(v['nodes']) - 8} more")
    return "\n".join(lines)


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
@pytest.mark.parametrize("page_path", html_pages())
def test_no_serious_axe_violations(site, browser, axe_source, page_path, color_scheme):
    if page_path == MISSING_BUILD:
        pytest.fail(page_path, pytrace=False)
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme=color_scheme)
    try:
        ctx.route("**/*", lambda r: r.continue_() if r.request.url.startswith(
            ("http://127.0.0.1", "data:", "blob:")) else r.abort("blockedbyclient"))
        page = ctx.new_page()
        load(page, f"{site}/{page_path}")
        if is_chapter(page_path) or page.evaluate("() => !!window.MathJax"):
            wait_for_mathjax(page)
        page.wait_for_load_state("networkidle")
        page.evaluate(axe_source)
        results = page.evaluate(AXE_RUN_JS)
    finally:
        ctx.close()
    bad = [v for v in results["violations"] if v.get("impact") in FAIL_IMPACTS]
    assert not bad, (
        f"{page_path} ({color_scheme}): axe-core {results['testEngine']['version']} found "
        f"{len(bad)} serious/critical violation(s):\n{_format(bad)}"
    )
