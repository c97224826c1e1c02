"""The live sliders in a real JupyterLab, driven by Chromium.

For every chapter notebook that calls ``slider(``: start JupyterLab on a
temporary copy of ``chapters/`` (Jupyter config, data, runtime, IPython and
Matplotlib dirs all temporary, so nothing is written into the repository or
the home directory), open the notebook, run all cells, wait for the kernel to
be idle and the ``.smx-live`` widget to render, then move each slider with
the keyboard and check that the frame (the ``img`` in ``.smx-live-figure``)
and the slider's readout change.

No wall-clock assertion: the timeouts are only there so a hang fails.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import CHAPTERS_DIR, ROOT, slider_notebooks
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

pytestmark = pytest.mark.lab

START_TIMEOUT = 120  # s, JupyterLab server start
RUN_TIMEOUT = 240_000  # ms, kernel start + running every cell (2 cores)
UI_TIMEOUT = 60_000  # ms, JupyterLab UI steps


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _jupyter() -> list[str]:
    exe = Path(sys.executable).with_name("jupyter")
    if exe.exists():
        return [str(exe)]
    venv = ROOT / ".venv" / "bin" / "jupyter"
    if venv.exists():
        return [str(venv)]
    return [sys.executable, "-m", "jupyter"]


class Lab:
    def __init__(self, url: str, token: str, root: Path, log: Path, proc: subprocess.Popen):
        self.url, self.token, self.root, self.log, self.proc = url, token, root, log, proc

    def api(self, path: str, method: str = "GET"):
        req = urllib.request.Request(
            f"{self.url}{path}", method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def log_tail(self, n: int = 60) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def shutdown_sessions(self) -> None:
        try:
            for s in self.api("/api/sessions") or []:
                self.api(f"/api/sessions/{s['id']}", method="DELETE")
        except (urllib.error.URLError, OSError):
            pass


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    if not slider_notebooks():
        pytest.skip("no chapter notebook calls slider(")
    base = tmp_path_factory.mktemp("lab")
    root = base / "chapters"
    shutil.copytree(CHAPTERS_DIR, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "_build"))
    env = dict(os.environ)
    for var, sub in [("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
                     ("JUPYTER_RUNTIME_DIR", "runtime"), ("IPYTHONDIR", "ipython"),
                     ("MPLCONFIGDIR", "mpl"), ("HOME", "home")]:
        (base / sub).mkdir()
        env[var] = str(base / sub)
    # JupyterLab user settings: keep every cell in the DOM, ask no questions.
    settings = base / "config" / "lab" / "user-settings" / "@jupyterlab"
    for plugin, values in {
        "notebook-extension/tracker": {"windowingMode": "none"},
        "apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    }.items():
        f = settings / f"{plugin}.jupyterlab-settings"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(json.dumps(values))
    env.pop("MPLBACKEND", None)  # let the kernel use its inline backend
    token = secrets.token_hex(24)
    port = _free_port()
    log = base / "jupyterlab.log"
    cmd = _jupyter() + [
        "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}", "--port-retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.news_url=None",
        "--LabApp.extension_manager=readonly",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    server = Lab(f"http://127.0.0.1:{port}", token, root, log, proc)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited with {proc.returncode}:\n{server.log_tail()}", pytrace=False)
            try:
                server.api("/api/status")
                break
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not answer in {START_TIMEOUT} s:\n{server.log_tail()}",
                                pytrace=False)
                time.sleep(0.5)
        yield server
    finally:
        server.shutdown_sessions()
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _dismiss_dialogs(page) -> None:
    """Accept any JupyterLab dialog (e.g. "Select Kernel" keeps the default)."""
    dialog = page.locator(".jp-Dialog")
    for _ in range(3):
        if dialog.count() == 0 or not dialog.first.is_visible():
            return
        accept = dialog.first.locator(".jp-Dialog-button.jp-mod-accept")
        if accept.count():
            accept.first.click()
        else:
            page.keyboard.press("Escape")
        page.wait_for_timeout(500)


def _kernel_idle(page, timeout: float) -> None:
    page.wait_for_function(
        """() => {
          const el = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator');
          return el && el.getAttribute('data-status') === 'idle';
        }""",
        timeout=timeout,
    )


def _kernel_ready(lab: Lab, page, notebook: str) -> None:
    """The server has an idle kernel for `notebook` and the notebook shows it idle."""
    deadline = time.monotonic() + RUN_TIMEOUT / 1000
    while True:
        sessions = [s for s in lab.api("/api/sessions") or []
                    if Path(s.get("path", "")).name == notebook and s.get("kernel")]
        if any(s["kernel"].get("execution_state") == "idle" for s in sessions):
            break
        if time.monotonic() > deadline:
            pytest.fail(f"{notebook}: no idle kernel after {RUN_TIMEOUT / 1000:.0f} s: {sessions}\n"
                        f"{lab.log_tail()}", pytrace=False)
        _dismiss_dialogs(page)
        time.sleep(0.5)
    _kernel_idle(page, RUN_TIMEOUT)


_ANY_CELL_STARTED = """() => [...document.querySelectorAll(
    '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputArea-prompt')]
    .some(p => /\\[(\\*|\\d+)\\]/.test(p.textContent))"""


def _run_all(page) -> None:
    """Run -> Run All Cells, retried until a cell starts (start-up races)."""
    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell").first.click()  # activate
    for _attempt in range(4):
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).first.click()
        item = page.locator(".lm-Menu-item:visible:not(.lm-mod-disabled) .lm-Menu-itemLabel",
                            has_text=re.compile(r"^Run All Cells$"))
        try:
            item.first.click(timeout=5_000)
        except PlaywrightTimeoutError:
            page.keyboard.press("Escape")
            page.wait_for_timeout(2_000)
            continue
        _dismiss_dialogs(page)
        try:
            page.wait_for_function(_ANY_CELL_STARTED, timeout=20_000)
            return
        except PlaywrightTimeoutError:
            continue
    raise AssertionError("Run -> Run All Cells started no cell")


@pytest.mark.parametrize("notebook", slider_notebooks() or ["<no notebook with slider(>"])
def test_live_sliders_redraw(lab, context, notebook):
    blocked: list[str] = []

    def route(r):
        if r.request.url.startswith((lab.url, "data:", "blob:")) or r.request.url.startswith("ws://127.0.0.1"):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort("blockedbyclient")

    context.route("**/*", route)
    context.set_default_timeout(UI_TIMEOUT)
    page = context.new_page()
    page_errors: list[str] = []
    page.on("pageerror", lambda e: page_errors.append(str(e)))
    stem = Path(notebook).stem.replace("_", "-")
    try:
        # A workspace of its own (the config dir is new, so it starts empty).
        page.goto(f"{lab.url}/lab/workspaces/smx-{stem}/tree/{notebook}?token={lab.token}")
        page.locator(".jp-NotebookPanel").first.wait_for(state="visible", timeout=RUN_TIMEOUT)
        page.locator(".jp-Notebook .jp-Cell").first.wait_for(state="visible")
        _dismiss_dialogs(page)
        _kernel_ready(lab, page, notebook)
        _run_all(page)
        # Run All has finished: some cell has run, none is running or queued
        # ("[*]"), and the kernel is idle.  (After an error the rest stay "[ ]".)
        page.wait_for_function(
            """() => {
              const nb = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
              if (!nb) return false;
              const prompts = [...nb.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')].map(p => p.textContent);
              const ind = nb.querySelector('.jp-Notebook-ExecutionIndicator');
              return prompts.some(t => /\\[\\d+\\]/.test(t)) && !prompts.some(t => t.includes('*'))
                     && ind && ind.getAttribute('data-status') === 'idle';
            }""",
            timeout=RUN_TIMEOUT,
        )
        errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
        tracebacks = [t for t in errors.all_inner_texts() if "Traceback" in t or "Error" in t]
        assert not tracebacks, f"{notebook}: a cell failed in JupyterLab:\n" + "\n".join(tracebacks)[:4000]
        not_run = page.evaluate(
            """() => [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputArea-prompt')]
                 .filter(p => !/\\[\\d+\\]/.test(p.textContent)).length"""
        )
        assert not_run == 0, f"{notebook}: {not_run} code cell(s) did not run"
        live = page.locator(".smx-live")
        live.first.wait_for(state="attached", timeout=UI_TIMEOUT)
        n_live = live.count()
        assert n_live > 0
        for w in range(n_live):
            box = live.nth(w)
            box.scroll_into_view_if_needed()
            img = box.locator(".smx-live-figure img")
            expect(img).to_have_count(1)
            expect(img).to_be_visible()
            handles = box.locator(".noUi-handle")
            n_handles = handles.count()
            assert n_handles > 0, f"{notebook}: live widget {w} has no slider"
            for h in range(n_handles):
                handle = handles.nth(h)
                readout = box.locator(".widget-readout").nth(h)
                src0 = img.get_attribute("src")
                alt0 = img.get_attribute("alt")
                text0 = readout.inner_text()
                assert src0 and src0.startswith("data:image/png"), f"{notebook}: no frame image"
                assert alt0 and alt0.strip(), f"{notebook}: the live frame has no alt text"
                now = float(handle.get_attribute("aria-valuenow") or 0)
                top = float(handle.get_attribute("aria-valuemax") or 0)
                key = "ArrowLeft" if now >= top else "ArrowRight"
                handle.focus()
                expect(handle).to_be_focused()
                page.keyboard.press(key)
                expect(readout).not_to_have_text(text0, timeout=RUN_TIMEOUT)
                expect(img).not_to_have_attribute("src", src0, timeout=RUN_TIMEOUT)
                alt1 = img.get_attribute("alt")
                assert alt1 and alt1.strip(), f"{notebook}: the new frame has no alt text"
        assert not page_errors, f"{notebook}: JavaScript errors in JupyterLab:\n" + "\n".join(page_errors)
    except Exception:
        shot = lab.root.parent / f"{stem}-failure.png"
        try:
            page.screenshot(path=str(shot), full_page=True)
            print(f"screenshot: {shot}\nJupyterLab log:\n{lab.log_tail()}\nblocked: {blocked}")
        except Exception:  # noqa: BLE001
            pass
        raise
    finally:
        lab.shutdown_sessions()
