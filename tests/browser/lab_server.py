"""A fresh Jupyter server for the browser tests: its own config, data, runtime and IPython folders in a temporary
directory, token auth, 127.0.0.1 only. It serves JupyterLab (``/lab``) and, with the ``notebook`` package,
Notebook 7 (``/notebooks``) from one process. ``dark=True`` sets JupyterLab's dark theme (both frontends read it).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")


def require_browser() -> None:
    """Skip only on purpose (STALLMAGIC_SKIP_BROWSER=1); a missing browser or package fails with what to run."""
    if os.environ.get("STALLMAGIC_SKIP_BROWSER") == "1":
        pytest.skip("STALLMAGIC_SKIP_BROWSER=1: browser test skipped on purpose")
    missing = []
    if not CHROMIUM.exists():
        missing.append(
            "Debian's Chromium at /usr/bin/chromium (apt-get install -y --no-install-recommends chromium "
            "chromium-driver; `make test` does it)"
        )
    for module in ("playwright", "jupyterlab", "notebook"):
        try:
            __import__(module)
        except ImportError:
            missing.append(f"the Python package {module} (pip install -e '.[test]')")
    if missing:
        pytest.fail(
            "The browser test needs " + " and ".join(missing) + ". Set STALLMAGIC_SKIP_BROWSER=1 to skip it locally.",
            pytrace=False,
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def jupyter_server(home: Path, root: Path, *, dark: bool = False) -> Iterator[tuple[str, str]]:
    """Start the server on ``root`` with its folders under ``home``; yields (base_url, token); stops it after."""
    settings = home / "config" / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text('{ "fetchNews": "false", "checkForUpdates": false }')
    if dark:
        (settings / "themes.jupyterlab-settings").write_text('{ "theme": "JupyterLab Dark" }')
    token, port = secrets.token_hex(16), free_port()
    env = dict(os.environ)
    env.update(
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_DATA_DIR=str(home / "data"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        IPYTHONDIR=str(home / "ipython"),
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
        TF_CPP_MIN_LOG_LEVEL="3",
        MPLBACKEND="Agg",
    )
    cmd = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--allow-root",
        "--LabApp.extension_manager=readonly", "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]  # fmt: skip
    log = open(home / "lab.log", "wb")  # noqa: SIM115 - closed after the server stops
    server = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.time() > deadline:
                pytest.fail(f"JupyterLab did not start:\n{(home / 'lab.log').read_text()[-3000:]}", pytrace=False)
            time.sleep(0.5)
        yield base, token
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def drive(script: str, args: list[str], home: Path, timeout: int = 600) -> dict:
    """Run a driver script (its own process: Playwright's sync API wants its own event loop) and return the JSON
    object it printed last; fail with its stderr and the server's log otherwise."""
    import json

    proc = subprocess.run(
        [sys.executable, str(Path(__file__).with_name(script)), *args], capture_output=True, text=True, timeout=timeout
    )
    if proc.returncode != 0:
        log = (home / "lab.log").read_text()[-3000:]
        pytest.fail(f"{script} failed:\n{proc.stderr[-4000:]}\n--- JupyterLab log ---\n{log}", pytrace=False)
    return json.loads(proc.stdout.strip().splitlines()[-1])
