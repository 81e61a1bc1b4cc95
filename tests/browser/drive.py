"""Drive JupyterLab in Debian's Chromium (Playwright's sync API) the way a user clicks through the panel.

Run by ``test_browser.py`` in its own process (Playwright's sync API wants its own event loop, away from pytest's):

    python drive.py BASE_URL TOKEN NOTEBOOK HOSTILE_NOTEBOOK ARTIFACTS_DIR

It opens NOTEBOOK, runs every cell, waits for the panel, checks the curves (inline SVG) and the findings, and that
the panel's static twin stays hidden while the widget is live, screenshots the panel, clicks the first
**Apply & rerun**, waits for the second run in the runs table and screenshots again. It saves the notebook, shuts its
kernel down and reloads the page: the static twin must then show the findings, the curves and both runs, and the
widget's "model not found" must give way to it. Then it opens HOSTILE_NOTEBOOK (hostile label, log key and exception
message) and checks nothing in it ran as HTML. It prints one JSON object with what it saw; the test asserts on it.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


VISIBLE = ".jp-NotebookPanel:not(.lm-mod-hidden)"

#: What the panel says about its kernel (stallmagic/notebook/connection.js): its state, the banner and its
#: reason, and which of its buttons still take clicks.
CONNECTION_STATE = """(panel) => ({
  state: panel.dataset.stallmagicConnection || 'live',
  banner: (panel.querySelector('.stallmagic-connection-banner') || {}).innerText || '',
  why: (panel.querySelector('.stallmagic-connection-banner') || {}).title || '',
  buttons: panel.querySelectorAll('button').length,
  enabled: [...panel.querySelectorAll('button')].filter(b => !b.disabled).map(b => b.innerText.trim()),
})"""


def open_notebook(page, base: str, token: str, name: str):
    """Open a notebook and wait until its kernel is idle; returns a locator of its (visible) panel."""
    page.goto(f"{base}/lab/tree/{name}?token={token}", wait_until="domcontentloaded")
    page.locator(".jp-StatusBar-TextItem", has_text=name).first.wait_for(timeout=90_000)
    page.get_by_text("| Idle").first.wait_for(timeout=120_000)
    return page.locator(VISIBLE)


def run_all(page, notebook) -> None:
    """Run > Run All Cells from the menu bar, as a user would; a command sent while the page still settles can
    be lost on a cold start, so it is repeated until the first prompt shows the cell ran or is running."""
    first_prompt = notebook.locator(".jp-CodeCell .jp-InputArea-prompt").first
    for _ in range(4):
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
        deadline = time.time() + 10
        while time.time() < deadline:
            text = first_prompt.inner_text()
            if "*" in text or any(ch.isdigit() for ch in text):
                return
            page.wait_for_timeout(250)
    raise RuntimeError("Run All Cells did not start the notebook")


def on_dialog(dialog, out: dict) -> None:
    """Leaving a notebook with changes asks "leave the page?": yes. Any other dialog (an ``alert``) is recorded."""
    if dialog.type == "beforeunload":
        dialog.accept()
        return
    out["dialogs"].append(f"{dialog.type}: {dialog.message}")
    dialog.dismiss()


def in_browser(artifacts: str, failure: str, run: Callable[[Any, Path, dict], None]) -> dict:
    """Open Chromium with one page (dialogs recorded, console errors collected), call ``run(page, shots, out)``,
    screenshot the page as ``failure`` in ``artifacts`` if it raises, and return what ``run`` put into ``out``."""
    from playwright.sync_api import sync_playwright

    out: dict = {"console_errors": [], "dialogs": []}
    shots = Path(artifacts)
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000}, device_scale_factor=1)
        page.on("dialog", lambda d: on_dialog(d, out))
        page.on("console", lambda m: out["console_errors"].append(m.text) if m.type == "error" else None)
        page.set_default_timeout(60_000)
        try:
            run(page, shots, out)
        except Exception:
            page.screenshot(path=str(shots / failure), full_page=True)
            raise
        finally:
            browser.close()
    return out


def main(base: str, token: str, notebook: str, hostile: str, artifacts: str) -> dict:
    return in_browser(
        artifacts, "failure.png", lambda page, shots, out: steps(page, base, token, notebook, hostile, shots, out)
    )


def steps(page, base: str, token: str, notebook: str, hostile: str, shots: Path, out: dict) -> None:
    """The user's clicks, in order; ``out`` collects what was seen."""
    nb = open_notebook(page, base, token, notebook)
    run_all(page, nb)
    panel = nb.locator(".stallmagic-panel").first
    panel.wait_for(timeout=120_000)
    start = time.time()
    try:  # the live view while the fit runs: status, curves and gap drawn in place
        nb.locator(".stallmagic-live svg polyline").first.wait_for(timeout=60_000)
        out["live_seen"] = True
        out["live_text"] = nb.locator(".stallmagic-live").first.inner_text()
        panel.screenshot(path=str(shots / "panel-live.png"))
    except Exception as exc:  # a very fast fit can finish before the first redraw shows
        out["live_seen"] = False
        out["live_error"] = str(exc)[:300]
    nb.locator(".stallmagic-finding").first.wait_for(timeout=180_000)
    out["seconds_to_findings"] = round(time.time() - start, 1)
    curves = nb.locator(".stallmagic-panel .stallmagic-curves svg").first
    curves.wait_for()
    out["curves_width"] = curves.bounding_box()["width"]
    out["twins_visible_live"] = sum(t.is_visible() for t in nb.locator(".stallmagic-static").all())
    out["twins_in_page_live"] = nb.locator(".stallmagic-static").count()
    out["findings_text"] = nb.locator(".stallmagic-findings").first.inner_text()
    out["rerun_buttons"] = nb.locator("button.stallmagic-rerun").count()
    panel.scroll_into_view_if_needed()
    panel.screenshot(path=str(shots / "panel-before.png"))

    button = nb.locator("button.stallmagic-rerun").first
    out["clicked_remedy"] = button.evaluate("b => b.parentElement.innerText")
    button.click()
    try:  # the rerun streams into the same panel
        nb.locator(".stallmagic-live svg polyline").first.wait_for(timeout=30_000)
        out["rerun_live_seen"] = True
        panel.screenshot(path=str(shots / "panel-rerun-live.png"))
    except Exception as exc:
        out["rerun_live_seen"] = False
        out["rerun_live_error"] = str(exc)[:300]
    rows = nb.locator(".stallmagic-panel table.stallmagic-runs tr.stallmagic-run-row")  # not the hidden twin's
    deadline = time.time() + 180
    while rows.count() < 2 and time.time() < deadline:
        page.wait_for_timeout(500)
    out["run_rows"] = rows.count()
    out["runs_table"] = nb.locator(".stallmagic-panel table.stallmagic-runs").first.inner_text() if rows.count() else ""
    out["panel_text"] = panel.inner_text()
    page.wait_for_timeout(1000)  # let the redrawn image arrive
    panel.screenshot(path=str(shots / "panel-after.png"))
    page.screenshot(path=str(shots / "page-after.png"), full_page=True)

    inputs = nb.locator(".jp-Cell .jp-InputArea .cm-content")
    before = inputs.all_inner_texts()
    training = next(i for i, t in enumerate(before) if t.startswith("%%diagnose_fit"))
    nb.locator("button.stallmagic-keep").first.click()
    nb.locator(".stallmagic-code").first.wait_for(timeout=30_000)
    out["kept_code"] = nb.locator(".stallmagic-code").first.inner_text()
    out["keep_box_text"] = nb.locator(".stallmagic-keep-box").first.inner_text()
    # Keep this fix writes the kept code into a new cell right below the training cell (ipylab)
    deadline = time.time() + 30
    out["inserted_cell"] = ""
    while time.time() < deadline and not out["inserted_cell"]:
        page.wait_for_timeout(500)
        texts = inputs.all_inner_texts()
        if len(texts) == len(before) + 1 and texts[training + 1] != before[training + 1]:
            out["inserted_cell"] = texts[training + 1]
    out["cells_after_keep"] = len(inputs.all_inner_texts()) - len(before)

    # "%stall keep" in a new cell at the end: the reply's payload turns that cell into the kept code
    nb.locator(".jp-Cell").last.locator(".jp-InputArea").click()
    page.keyboard.press("Escape")
    page.keyboard.press("b")
    page.keyboard.press("Enter")
    page.keyboard.type("%stall keep")
    page.keyboard.press("Shift+Enter")
    deadline = time.time() + 30
    out["kept_cell"] = ""
    while time.time() < deadline and not out["kept_cell"]:
        page.wait_for_timeout(500)
        texts = inputs.all_inner_texts()
        later = texts[training + 2:]  # past the training cell and the cell Keep this fix wrote
        out["kept_cell"] = next((t for t in later if t.startswith("%%diagnose_fit") and "EarlyStopping" in t), "")

    # "Find a fix" on the picked run: its verdict (a fix, nothing to repair, or no fix) appears in the panel
    nb.locator("button.stallmagic-repair").first.click()
    nb.locator(".stallmagic-repair-result").first.wait_for(timeout=240_000)
    out["repair_text"] = nb.locator(".stallmagic-repair-result").first.inner_text()
    out["repair_panel_text"] = panel.inner_text()

    forgotten_by_the_kernel(page, nb, panel, out)
    reload_without_kernel(page, base, token, notebook, shots, out)

    nb = open_notebook(page, base, token, hostile)
    run_all(page, nb)
    # the visible status: the hidden live line may carry the same words when its last redraw came after the error
    nb.locator(".stallmagic-status:visible", has_text="ended with an error").first.wait_for(timeout=60_000)
    nb.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").first.wait_for()
    page.wait_for_timeout(1500)
    out["hostile_img_elements"] = page.locator("img[src='x']").count()
    out["hostile_panel_text"] = nb.locator(".stallmagic-panel").first.inner_text()
    nb.locator(".stallmagic-panel").first.screenshot(path=str(shots / "panel-hostile.png"))


#: Run in the kernel: it forgets the comm of the panel's watch, as a new kernel process would (one restarted while
#: the page did not hear it: the laptop slept, a restart from another tab); the panel's other widgets stay live.
FORGET = (
    "from comm import get_comm_manager; "
    "watch = get_ipython().find_cell_magic('diagnose_fit').__self__.views[-1].connection; "
    "get_comm_manager().unregister_comm(watch.comm)"
)


def forgotten_by_the_kernel(page, nb, panel, out: dict) -> None:
    """The kernel no longer knows the panel's watch: hovering the panel pings it, and the kernel handles the ping
    without answering, so the panel must say its kernel is gone and turn its buttons off (no status told it)."""
    out["forget_before"] = panel.evaluate(CONNECTION_STATE)
    nb.locator(".jp-Cell").last.locator(".jp-InputArea").click()
    page.keyboard.press("Escape")
    page.keyboard.press("b")
    page.keyboard.press("Enter")
    page.keyboard.type(FORGET)
    page.keyboard.press("Shift+Enter")
    page.wait_for_timeout(2000)
    deadline = time.time() + 30
    while time.time() < deadline:
        page.mouse.move(0, 0)
        panel.hover()
        page.wait_for_timeout(3000)
        out["forget_after"] = panel.evaluate(CONNECTION_STATE)
        if out["forget_after"]["state"] != "live":
            break


def reload_without_kernel(page, base: str, token: str, notebook: str, shots: Path, out: dict) -> None:
    """Save the notebook, shut its kernel down, reload the page: what a user finds the next day."""
    nb = page.locator(VISIBLE)
    nb.locator(".jp-Cell").first.click()
    page.keyboard.press("Control+s")
    page.locator(".lm-TabBar-tab.jp-mod-dirty").first.wait_for(state="detached", timeout=30_000)  # saved
    with urllib.request.urlopen(f"{base}/api/kernels?token={token}") as response:
        kernels = json.load(response)
    for kernel in kernels:
        request = urllib.request.Request(f"{base}/api/kernels/{kernel['id']}?token={token}", method="DELETE")
        urllib.request.urlopen(request).close()
    page.goto(f"{base}/lab/tree/{notebook}?token={token}", wait_until="domcontentloaded")
    nb = page.locator(VISIBLE)
    twin = nb.locator(".stallmagic-static").first
    twin.wait_for(state="visible", timeout=90_000)
    page.wait_for_timeout(3000)  # the widget renderer gives up ("model not found") once the manager is restored
    out["reloaded_twin_text"] = twin.inner_text()
    out["reloaded_twin_svgs"] = twin.locator("svg polyline").count()
    out["reloaded_run_rows"] = twin.locator("tr.stallmagic-run-row").count()
    out["reloaded_widget_errors_visible"] = sum(
        e.is_visible() for e in nb.get_by_text("Error displaying widget").all()
    )
    twin.scroll_into_view_if_needed()
    twin.screenshot(path=str(shots / "panel-reloaded.png"))
    baseline = twin.locator("details", has=page.locator("summary", has_text="Findings of run 1")).first
    baseline.locator("summary").first.click()  # the baseline's findings, one click away
    out["reloaded_baseline_findings"] = baseline.inner_text()


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:6])))
