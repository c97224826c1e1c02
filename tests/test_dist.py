"""smoothmax as a distributable package, the setup cell, and what Binder/JupyterHub read.

* `make dist`'s build (wheel from sdist, PEP 517) passes ``twine check --strict``
  and carries the version, the licence, the readme and the metadata;
* the built site serves that wheel at ``_downloads/`` (what the setup cell installs);
* tools/setup_cell.py puts the setup cell first, idempotently, on a copy of the
  chapters; the cell is silent when everything is installed and imports only the
  standard library; and the committed chapters have the current cell;
* runtime.txt pins the Python the requirements need, README states the range.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

from conftest import CHAPTERS_DIR, ROOT

sys.path.insert(0, str(ROOT / "tools"))
import setup_cell  # noqa: E402

VERSION = setup_cell.book_version()
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    """`python -m build` of lib/ (sdist, then the wheel from the sdist), as `make dist` runs it."""
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT / "lib")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    wheel = out / f"smoothmax-{VERSION}-py3-none-any.whl"
    sdist = out / f"smoothmax-{VERSION}.tar.gz"
    assert wheel.is_file() and sdist.is_file(), sorted(p.name for p in out.iterdir())
    return wheel, sdist


def test_twine_check_passes(dist):
    proc = subprocess.run([str(BIN / "twine"), "check", "--strict", *map(str, dist)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("PASSED") == 2, proc.stdout


def test_wheel_metadata(dist):
    wheel, _ = dist
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        meta = Parser().parsestr(z.read(f"smoothmax-{VERSION}.dist-info/METADATA").decode())
        init = z.read("smoothmax/__init__.py").decode()
    assert meta["Name"] == "smoothmax" and meta["Version"] == VERSION
    assert f'__version__ = "{VERSION}"' in init
    assert meta["License-Expression"] == "MIT"
    assert f"smoothmax-{VERSION}.dist-info/licenses/LICENSE" in names
    assert meta["Requires-Python"].startswith(">=3.")
    assert meta["Description-Content-Type"] == "text/markdown" and "# smoothmax" in meta.get_payload()
    requires = meta.get_all("Requires-Dist")
    assert any(r.startswith("numpy") for r in requires)
    assert set(meta.get_all("Provides-Extra")) >= {"widgets", "notebooks"}
    # everything the setup cell looks for comes with smoothmax[notebooks]
    extra = " ".join(r for r in requires if "notebooks" in r or "widgets" in r).lower()
    for dist_name in ["ipywidgets", "matplotlib", "pillow", "scipy", "sympy", "mpmath", "myst-nb"]:
        assert dist_name in extra, f"smoothmax[notebooks] lacks {dist_name}"
    assert not any(n.startswith(("tests/", "smoothmax/tests")) for n in names)


def test_sdist_has_licence_readme_and_tests(dist):
    _, sdist = dist
    with tarfile.open(sdist) as t:
        names = {n.split("/", 1)[1] for n in t.getnames() if "/" in n}
    assert {"LICENSE", "README.md", "pyproject.toml", "smoothmax/__init__.py"} <= names


def test_the_site_ships_the_wheel(html_dir):
    wheel = html_dir / "_downloads" / setup_cell.wheel_name(VERSION)
    assert wheel.is_file(), f"no {wheel.relative_to(html_dir)}: `make book` builds and ships it"
    with zipfile.ZipFile(wheel) as z:
        assert f'__version__ = "{VERSION}"' in z.read("smoothmax/__init__.py").decode()


# -- the setup cell ----------------------------------------------------------------------
@pytest.fixture
def chapters_copy(tmp_path):
    work = tmp_path / "chapters"
    shutil.copytree(CHAPTERS_DIR, work, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    return work


def _tool(*args):
    return subprocess.run([sys.executable, str(ROOT / "tools" / "setup_cell.py"), *map(str, args)],
                          capture_output=True, text=True)


def test_setup_cell_goes_first_once(chapters_copy):
    before = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in chapters_copy.glob("*.ipynb")}
    assert _tool(chapters_copy).returncode == 0
    snapshot = {p.name: p.read_text(encoding="utf-8") for p in chapters_copy.glob("*.ipynb")}
    for name, old in before.items():
        nb = json.loads(snapshot[name])
        first = nb["cells"][0]
        assert setup_cell.is_setup_cell(first) and first["cell_type"] == "code"
        assert "remove-cell" in first["metadata"]["tags"]
        assert first["outputs"] == [] and first["execution_count"] is None
        assert sum(setup_cell.is_setup_cell(c) for c in nb["cells"]) == 1
        rest = [c for c in old["cells"] if not setup_cell.is_setup_cell(c)]
        assert nb["cells"][1:] == rest, f"{name}: other cells changed"
    # idempotent: a second run changes no byte, and --check agrees
    assert _tool(chapters_copy).returncode == 0
    assert snapshot == {p.name: p.read_text(encoding="utf-8") for p in chapters_copy.glob("*.ipynb")}
    assert _tool("--check", chapters_copy).returncode == 0


def test_setup_cell_is_updated_not_duplicated(chapters_copy):
    assert _tool("--version", "0.0.1", chapters_copy).returncode == 0
    assert _tool("--check", chapters_copy).returncode == 1  # stale for the real version
    assert _tool(chapters_copy).returncode == 0
    for p in chapters_copy.glob("*.ipynb"):
        nb = json.loads(p.read_text(encoding="utf-8"))
        assert sum(setup_cell.is_setup_cell(c) for c in nb["cells"]) == 1
        assert f"=={VERSION}" in "".join(nb["cells"][0]["source"]) or "@ http" in "".join(nb["cells"][0]["source"])


def test_the_site_url_makes_it_install_the_sites_wheel():
    src = setup_cell.source(VERSION, "https://example.org/smooth-max")
    want = f"smoothmax[notebooks] @ https://example.org/smooth-max/_downloads/smoothmax-{VERSION}-py3-none-any.whl"
    assert f'"{want}"' in src
    assert setup_cell.requirement(VERSION, "") == f"smoothmax[notebooks]=={VERSION}"
    with pytest.raises(ValueError):
        setup_cell.requirement(VERSION, "_downloads")  # a relative URL cannot work from a download


def test_setup_cell_is_silent_when_everything_is_installed(tmp_path):
    """What the book build runs: nothing on stdout or stderr, no pip."""
    script = tmp_path / "cell.py"
    script.write_text(setup_cell.source(VERSION, setup_cell.site_url()), encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "SMOOTHMAX_PIP": "this-package-does-not-exist==0"}
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout == "" and proc.stderr == "", proc.stdout + proc.stderr


def test_setup_cell_imports_only_the_standard_library():
    code = setup_cell.source(VERSION)
    modules = set(re.findall(r"^\s*(?:from|import)\s+([A-Za-z_]\w*)", code, re.M))
    modules |= {m.strip().split(".")[0] for line in re.findall(r"^import (.*)$", code, re.M) for m in line.split(",")}
    assert modules and modules <= set(sys.stdlib_module_names), modules


def test_setup_cell_looks_for_every_module_a_chapter_imports():
    from test_notebooks import PROVIDED_BY

    third_party = {m for m in PROVIDED_BY if m not in ("IPython",)}
    assert third_party <= set(setup_cell.MODULES), third_party - set(setup_cell.MODULES)


def test_committed_chapters_have_the_setup_cell():
    proc = _tool("--check")
    assert proc.returncode == 0, (
        "the chapters lack the current setup cell: run `python tools/setup_cell.py` "
        f"(then commit chapters/)\n{proc.stdout}")


# -- Binder / JupyterHub ------------------------------------------------------------------
def test_binder_files():
    runtime = (ROOT / "runtime.txt").read_text(encoding="utf-8").strip()
    assert re.fullmatch(r"python-3\.\d+", runtime), runtime
    minor = int(runtime.split(".")[1])
    requirements = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    assert re.search(r"^-e \./lib", requirements, re.M), "requirements.txt installs smoothmax from ./lib"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    m = re.search(r"Python 3\.(\d+) to 3\.(\d+)", readme)
    assert m, "README states the supported Python range as 'Python 3.X to 3.Y'"
    assert int(m.group(1)) <= minor <= int(m.group(2))
    assert sys.version_info[:2] >= (3, int(m.group(1)))
    for word in ("Binder", "JupyterHub", "nbgitpuller", "runtime.txt"):
        assert word in readme, f"README should say how a course uses {word}"
