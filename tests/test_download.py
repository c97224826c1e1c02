"""A chapter downloaded from the book runs in a Jupyter that has never seen this repository.

A fresh venv gets what a reader's Jupyter has: nbclient, ipykernel and the
reader packages of requirements.txt, without ``-e ./lib`` (no smoothmax).  The
built site is served on 127.0.0.1; every chapter notebook is fetched over HTTP
from its page's download link and executed top to bottom, in a temporary
folder, by that venv's own kernel.  The notebooks' first cell (tools/setup_cell.py)
must install smoothmax itself: ``SMOOTHMAX_PIP`` points it at the wheel the site
serves, as ``smoothmax_site_url`` in _config.yml does for a published book.
Then smoothmax is uninstalled and the student edition (tools/student_edition.py)
runs the same way.

About 3 minutes: the venv comes from pip's cache, the notebooks run once each.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import urllib.request
import warnings
from pathlib import Path

import pytest

from conftest import CHAPTERS_DIR, ROOT, chapter_pages

sys.path.insert(0, str(ROOT / "tools"))
import setup_cell  # noqa: E402

VERSION = setup_cell.book_version()
WHEEL = setup_cell.wheel_name(VERSION)

# Runs inside the fresh venv: execute notebooks with its own python3 kernel.
RUNNER = textwrap.dedent("""\
    import json, sys
    import nbformat
    from nbclient import NotebookClient
    report = []
    for path in sys.argv[1:]:
        nb = nbformat.read(path, as_version=4)
        NotebookClient(nb, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(__import__("pathlib").Path(path).parent)}}).execute()
        streams = [(i, o["name"], o.get("text", "")[:300]) for i, c in enumerate(nb.cells) if c.cell_type == "code"
                   for o in c.get("outputs", []) if o.get("output_type") == "stream"]
        report.append({"path": path, "streams": streams})
    print("REPORT " + json.dumps(report))
""")


def reader_requirements(tmp: Path) -> Path:
    """requirements.txt without the local smoothmax line (and with an absolute -c)."""
    lines = []
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        if line.strip().startswith("-e"):
            continue
        if line.strip().startswith("-c"):
            line = f"-c {ROOT / 'constraints.txt'}"
        lines.append(line)
    out = tmp / "reader-requirements.txt"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fresh")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    pins = {l.split("==")[0].lower(): l for l in (ROOT / "constraints.txt").read_text().splitlines() if "==" in l}
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    "-r", str(reader_requirements(tmp)), pins["nbclient"], pins["ipykernel"]],
                   check=True, capture_output=True, text=True)
    probe = subprocess.run([str(py), "-c", "import importlib.util as u; print(u.find_spec('smoothmax'))"],
                           capture_output=True, text=True, check=True)
    assert probe.stdout.strip() == "None", "the fresh venv must not have smoothmax"
    return py


def _env(site: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "JUPYTER", "IPYTHON"))}
    env.update(SMOOTHMAX_PIP=f"smoothmax[notebooks] @ {site}/_downloads/{WHEEL}",
               PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_ROOT_USER_ACTION="ignore", MPLBACKEND="Agg")
    return env


def run_in(py: Path, notebooks: list[Path], site: str, cwd: Path) -> list[dict]:
    runner = cwd / "run_notebooks.py"
    runner.write_text(RUNNER, encoding="utf-8")
    proc = subprocess.run([str(py), str(runner), *map(str, notebooks)], cwd=cwd, env=_env(site),
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"a notebook failed in the fresh venv:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    line = next(l for l in proc.stdout.splitlines() if l.startswith("REPORT "))
    return json.loads(line[len("REPORT "):])


def ensure_setup_cell(path: Path) -> bool:
    """True if the notebook already began with the setup cell.  Otherwise (the
    committed chapters not updated yet: tests/test_dist.py fails on that, this
    test only warns) put it in, so that this test checks the rest of the path."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    had = bool(nb["cells"]) and setup_cell.is_setup_cell(nb["cells"][0])
    if not had:
        setup_cell.apply(nb, VERSION, setup_cell.site_url())
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False), encoding="utf-8")
    return had


def _check_report(report, first_installs: bool):
    for k, entry in enumerate(report):
        name = Path(entry["path"]).name
        setup_out = [t for i, s, t in entry["streams"] if i == 0]
        others = [(i, t) for i, s, t in entry["streams"] if i != 0 and s == "stderr"]
        assert not others, f"{name}: cells wrote to stderr: {others}"
        if k == 0 and first_installs:
            assert any("Installing the book's packages" in t for t in setup_out), (
                f"{name}: the setup cell should have installed smoothmax: {setup_out}")
        elif k > 0:
            assert not setup_out, f"{name}: the setup cell should be silent once smoothmax is installed: {setup_out}"


def test_downloaded_chapters_run_in_a_fresh_jupyter(site, fresh_venv, tmp_path):
    # The Chinese edition's pages offer the same notebooks (tests/test_i18n.py checks the links).
    pages = [p for p in chapter_pages() if p.endswith(".html") and not p.startswith("zh/")]
    assert len(pages) == len(list(CHAPTERS_DIR.glob("[0-9][0-9]_*.ipynb"))), pages
    with urllib.request.urlopen(f"{site}/_downloads/{WHEEL}") as r:
        assert r.status == 200, f"the site does not serve _downloads/{WHEEL} (make book ships it)"
    work = tmp_path / "Downloads"
    work.mkdir()
    downloaded, missing_cell = [], []
    for page in pages:
        html = urllib.request.urlopen(f"{site}/{page}").read().decode("utf-8")
        links = re.findall(r'href="([^"]+\.ipynb)"', html)
        assert links, f"{page} has no download link for its notebook"
        url = urllib.request.urljoin(f"{site}/{page}", links[0])
        target = work / Path(links[0]).name
        target.write_bytes(urllib.request.urlopen(url).read())
        if not ensure_setup_cell(target):
            missing_cell.append(target.name)
        downloaded.append(target)
    report = run_in(fresh_venv, downloaded, site, work)
    _check_report(report, first_installs=True)
    if missing_cell:  # test_dist.py::test_committed_chapters_have_the_setup_cell fails on this
        warnings.warn(f"downloaded notebooks without the setup cell (inserted here, and then they ran): "
                      f"{missing_cell}; run `python tools/setup_cell.py` and rebuild")


def test_the_student_edition_runs_in_a_fresh_jupyter(site, fresh_venv, tmp_path):
    subprocess.run([str(fresh_venv), "-m", "pip", "uninstall", "--yes", "--quiet", "smoothmax"],
                   check=True, capture_output=True)
    chapters = tmp_path / "chapters"
    shutil.copytree(CHAPTERS_DIR, chapters)
    subprocess.run([sys.executable, str(ROOT / "tools" / "setup_cell.py"), str(chapters)], check=True,
                   capture_output=True)
    student = tmp_path / "student"
    subprocess.run([sys.executable, str(ROOT / "tools" / "student_edition.py"), str(chapters), str(student)],
                   check=True, capture_output=True)
    notebooks = sorted(student.glob("[0-9][0-9]_*.ipynb"))
    assert notebooks
    for nb in notebooks:
        first = json.loads(nb.read_text(encoding="utf-8"))["cells"][0]
        assert setup_cell.is_setup_cell(first), f"{nb.name}: the student edition lost the setup cell"
    _check_report(run_in(fresh_venv, notebooks, site, student), first_installs=True)
