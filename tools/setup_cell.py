"""Put the setup cell first in every chapter notebook (idempotent).

    python tools/setup_cell.py                 # chapters/*.ipynb, from _config.yml
    python tools/setup_cell.py DIR_OR_FILE...  # other notebooks (a copy of chapters/, _build/student)
    python tools/setup_cell.py --check         # exit 1, changing nothing, if a notebook is stale

A chapter downloaded from the book's pages must run in any Jupyter, not only
in the repository's venv.  Its first cell (id ``smoothmax-setup``, tagged
``remove-cell`` so that no page and no PDF shows it) does nothing when the
packages the chapters import are installed and the installed smoothmax is at
least the book's version.  Otherwise it prints the one command and runs it::

    pip install "smoothmax[notebooks] @ <site>/_downloads/smoothmax-<version>-py3-none-any.whl"

where ``<site>`` is ``smoothmax_site_url`` in ``_config.yml`` (the absolute URL
the book is published at; the built site carries the wheel at that path, see
``_ext/offline_assets.py``).  Left empty, the requirement is the PyPI name,
``smoothmax[notebooks]==<version>``.  The environment variable
``SMOOTHMAX_PIP`` overrides the requirement at run time (a hub's own wheel; the
tests point it at a loopback server).

The cell is plain Python (``subprocess`` runs ``python -m pip`` for the
kernel's own interpreter, which is what ``%pip`` does): tools that parse the
chapters' code with ``ast`` read it, and it imports only the standard library.
It writes nothing, to stdout or stderr, when nothing is missing.

Re-run this after changing the version (``lib/smoothmax/__init__.py``) or
``smoothmax_site_url``; ``tests/test_dist.py`` says when the committed chapters
are stale.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CELL_ID = "smoothmax-setup"
TAGS = ["remove-cell"]
# Every third-party module a chapter imports, and the one providing module of
# smoothmax[notebooks] (lib/pyproject.toml); IPython comes with any kernel.
MODULES = ["numpy", "scipy", "sympy", "mpmath", "matplotlib", "PIL", "ipywidgets", "myst_nb", "smoothmax"]

TEMPLATE = '''\
# Setup (not shown in the book): does nothing when this Jupyter has what the chapter imports.
# Otherwise it installs it, with the one command
#     pip install "{requirement}"
import importlib.metadata, importlib.util, os, site, subprocess, sys

SMOOTHMAX = os.environ.get("SMOOTHMAX_PIP") or "{requirement}"
NEEDED = {modules!r}


def _smoothmax_is_current(least=({version_tuple})):
    try:
        version = importlib.metadata.version("smoothmax")
    except importlib.metadata.PackageNotFoundError:
        return False
    return tuple(int(p) for p in (version.split(".") + ["0", "0"])[:3] if p.isdigit()) >= least


if not (all(importlib.util.find_spec(m) for m in NEEDED) and _smoothmax_is_current()):
    print(f'Installing the book\\'s packages: pip install "{{SMOOTHMAX}}"', flush=True)
    if subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", SMOOTHMAX]).returncode:
        raise RuntimeError(f'pip failed: run  pip install "{{SMOOTHMAX}}"  for this kernel, then restart it')
    if site.ENABLE_USER_SITE and site.getusersitepackages() not in sys.path:
        site.addsitedir(site.getusersitepackages())  # pip fell back to a --user install
    importlib.invalidate_caches()
'''


def book_version(root: Path = ROOT) -> str:
    """smoothmax.__version__, read from lib/smoothmax/__init__.py (not imported)."""
    text = (root / "lib" / "smoothmax" / "__init__.py").read_text(encoding="utf-8")
    return re.search(r'^__version__\s*=\s*["\']([^"\']+)["\']', text, re.M).group(1)


def site_url(root: Path = ROOT) -> str:
    """``sphinx.config.smoothmax_site_url`` from _config.yml ('' when unset)."""
    import yaml

    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8")) or {}
    url = ((config.get("sphinx") or {}).get("config") or {}).get("smoothmax_site_url") or ""
    return str(url).strip().rstrip("/")


def wheel_name(version: str) -> str:
    return f"smoothmax-{version}-py3-none-any.whl"


def requirement(version: str, url: str = "") -> str:
    """What the setup cell installs: the wheel on the book's site, or the PyPI name."""
    if url:
        if not re.match(r"^https?://", url):
            raise ValueError(f"smoothmax_site_url must be an absolute http(s) URL, not {url!r}")
        return f"smoothmax[notebooks] @ {url}/_downloads/{wheel_name(version)}"
    return f"smoothmax[notebooks]=={version}"


def source(version: str, url: str = "") -> str:
    parts = [int(p) for p in re.findall(r"^\d+(?:\.\d+)*", version)[0].split(".")][:3]
    version_tuple = ", ".join(str(p) for p in (parts + [0, 0])[:3])
    return TEMPLATE.format(requirement=requirement(version, url), version_tuple=version_tuple,
                           modules=tuple(MODULES))


def cell(version: str, url: str = "") -> dict:
    lines = source(version, url).rstrip("\n").splitlines(keepends=True)
    return {"cell_type": "code", "execution_count": None, "id": CELL_ID,
            "metadata": {"tags": list(TAGS)}, "outputs": [], "source": lines}


def is_setup_cell(c: dict) -> bool:
    return c.get("id") == CELL_ID or (
        c.get("cell_type") == "code" and "".join(c.get("source", [])).startswith("# Setup (not shown in the book)"))


def apply(nb: dict, version: str, url: str = "") -> bool:
    """Make the setup cell the first cell of `nb` (in place); True if `nb` changed.
    An older setup cell anywhere in the notebook is replaced, never duplicated."""
    want = cell(version, url)
    cells = nb["cells"]
    old = [i for i, c in enumerate(cells) if is_setup_cell(c)]
    if old == [0] and cells[0] == want:
        return False
    for i in reversed(old):
        del cells[i]
    cells.insert(0, want)
    nb["nbformat"], nb["nbformat_minor"] = 4, max(5, nb.get("nbformat_minor", 5))  # cell ids need 4.5
    return True


def notebooks(paths: list[Path]) -> list[Path]:
    out = []
    for p in paths:
        out += sorted(p.glob("[0-9][0-9]_*.ipynb")) if p.is_dir() else [p]
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="*", type=Path, default=[ROOT / "chapters"],
                    help="notebooks, or folders of NN_*.ipynb (default: chapters/)")
    ap.add_argument("--check", action="store_true", help="change nothing; exit 1 if a notebook is stale")
    ap.add_argument("--site-url", help="instead of smoothmax_site_url in _config.yml")
    ap.add_argument("--version", help="instead of lib/smoothmax/__init__.py's __version__")
    args = ap.parse_args(argv)
    version = args.version or book_version()
    url = (args.site_url if args.site_url is not None else site_url()).rstrip("/")
    paths = notebooks(args.paths)
    if not paths:
        print("setup cell: no notebooks found", file=sys.stderr)
        return 1
    stale = []
    for path in paths:
        nb = json.loads(path.read_text(encoding="utf-8"))
        if apply(nb, version, url):
            stale.append(path)
            if not args.check:
                path.write_text(json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    verb = "stale" if args.check else "updated"
    for path in stale:
        print(f"{path}: {verb}")
    print(f"setup cell ({requirement(version, url)}): {len(paths) - len(stale)} of {len(paths)} "
          f"notebooks already current")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
