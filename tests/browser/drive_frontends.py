"""Drive the panel in Notebook 7 and in JupyterLab's dark theme (Playwright's sync API, Debian's Chromium).

Run by ``test_frontends.py`` in its own process:

    python drive_frontends.py BASE_URL TOKEN QUICKSTART SMALL ARTIFACTS_DIR ROOT_DIR

Notebook 7 (dark theme, as the server sets it): runs the quickstart top to bottom, clicks the first **Apply &
rerun**, waits for its row, clicks **Keep this fix** and reads the cell it wrote, then restarts the kernel from the
Kernel menu. JupyterLab (dark): runs SMALL, a short training, and measures the panel's colours: the contrast of
every enabled piece of text against the background it is drawn on, and any large near-white area (an opaque white
image); then kills the kernel's process (SMALL writes its pid to ROOT_DIR/kernel.pid). After the restart and after
the death the panel must say its kernel is gone and its buttons must be off. Prints one JSON object.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

from drive import CONNECTION_STATE, VISIBLE, in_browser, run_all

#: WCAG contrast of every enabled text in the panel, and large near-white areas, computed in the page.
COLOURS_JS = """(panel) => {
  const rgba = (s) => { const m = s.match(/[\\d.]+/g) || []; return m.length < 3 ? null :
    [ +m[0], +m[1], +m[2], m.length > 3 ? +m[3] : 1 ]; };
  const lum = (c) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
  const background = (el) => { let layers = [];
    for (let e = el; e; e = e.parentElement) { const c = rgba(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; } }
    let out = [255, 255, 255];
    for (const c of layers.reverse()) out = out.map((v, i) => c[i] * c[3] + v * (1 - c[3]));
    return out; };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  let worst = { ratio: 99 }, texts = 0; const white = [];
  for (const el of panel.querySelectorAll('*')) {
    const style = getComputedStyle(el), box = el.getBoundingClientRect();
    if (style.visibility === 'hidden' || style.display === 'none' || box.width === 0) continue;
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (own && !el.closest('button:disabled, [disabled], .mod-disabled')) {
      const fg = rgba(style.color), bg = background(el), r = ratio(fg.slice(0, 3), bg);
      texts += 1;
      if (r < worst.ratio) worst = { ratio: Math.round(r * 100) / 100, text: el.textContent.trim().slice(0, 60),
        color: style.color, background: bg.map(Math.round).join(',') };
    }
    const paint = el.tagName === 'rect' ? rgba(style.fill) : (el.tagName === 'IMG' ? [255, 255, 255, 1] :
      rgba(style.backgroundColor));
    if (paint && paint[3] > 0.5 && Math.min(...paint.slice(0, 3)) > 230 && box.width * box.height > 5000)
      white.push(el.tagName + '.' + (el.className.baseVal ?? el.className));
  }
  return { worst, texts, white, images: panel.querySelectorAll('img').length };
}"""


def connection(page, panel, until: str | None = None, timeout: float = 30) -> dict:
    """The panel's connection state (drive.CONNECTION_STATE); with ``until``, wait up to ``timeout`` s for it."""
    deadline = time.time() + timeout
    while True:
        seen = panel.evaluate(CONNECTION_STATE)
        if until is None or seen["state"] == until or time.time() > deadline:
            return seen
        page.wait_for_timeout(250)


def still_live_after_hover(page, panel) -> dict:
    """Hover the panel of an idle, living kernel (the watch pings it) and read the state a few seconds later: it
    must stay live (a ping answered in time), or the watch would call healthy kernels gone."""
    panel.hover()
    page.wait_for_timeout(3500)
    return connection(page, panel)


def wait_until_idle(page, notebook, cells: int, timeout: float = 600) -> None:
    """Wait until the last code cell shows an execution count and none is running (the notebook ran top to bottom;
    Notebook 7 may leave the prompts of cells scrolled out of view empty)."""
    prompts = notebook.locator(".jp-CodeCell .jp-InputArea-prompt")
    deadline = time.time() + timeout
    while time.time() < deadline:
        texts = prompts.all_inner_texts()
        if len(texts) >= cells and any(ch.isdigit() for ch in texts[cells - 1]) and not any("*" in t for t in texts):
            return
        page.wait_for_timeout(1000)
    raise RuntimeError(f"the notebook did not finish: prompts {prompts.all_inner_texts()}")


def notebook7(page, base: str, token: str, name: str, shots: Path, out: dict) -> None:
    page.goto(f"{base}/notebooks/{name}?token={token}", wait_until="domcontentloaded")
    nb = page.locator(VISIBLE)
    nb.locator(".jp-Cell").first.wait_for(timeout=90_000)
    page.wait_for_timeout(5000)  # the kernel starts
    code_cells = nb.locator(".jp-CodeCell").count()
    run_all(page, nb)
    wait_until_idle(page, nb, code_cells)
    panel = nb.locator(".stallmagic-panel").first
    nb.locator(".stallmagic-finding").first.wait_for(timeout=60_000)
    out["nb7_findings"] = nb.locator(".stallmagic-findings").first.inner_text()
    out["nb7_after_run"] = connection(page, panel)
    rows = panel.locator("tr.stallmagic-run-row")
    before = rows.count()  # the cell's runs table may list nothing yet: the later cells' reruns join at the click
    panel.locator("button.stallmagic-rerun").first.click()
    deadline = time.time() + 240
    while rows.count() <= before and time.time() < deadline:
        page.wait_for_timeout(500)
    out["nb7_rows"] = [before, rows.count()]
    out["nb7_row_texts"] = rows.all_inner_texts()
    page.wait_for_timeout(1500)
    panel.scroll_into_view_if_needed()
    panel.screenshot(path=str(shots / "panel-notebook7-dark.png"))
    inputs = nb.locator(".jp-Cell .jp-InputArea .cm-content")
    texts = inputs.all_inner_texts()
    training = next(i for i, t in enumerate(texts) if t.startswith("%%diagnose_fit"))
    panel.locator("button.stallmagic-keep").first.click()
    deadline = time.time() + 30
    out["nb7_inserted"] = ""
    while time.time() < deadline and not out["nb7_inserted"]:
        page.wait_for_timeout(500)
        now = inputs.all_inner_texts()
        if len(now) == len(texts) + 1:
            out["nb7_inserted"] = now[training + 1]
    out["nb7_keep_box"] = panel.locator(".stallmagic-keep-box").first.inner_text()
    out["nb7_colours"] = panel.evaluate(COLOURS_JS)
    # the user restarts the kernel from the menu: the panel says its kernel is gone and its buttons are off
    out["nb7_before_restart"] = still_live_after_hover(page, panel)
    page.locator(".lm-MenuBar-itemLabel", has_text="Kernel").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Restart Kernel").first.click()
    page.locator(".jp-Dialog button.jp-mod-accept").first.click()
    out["nb7_after_restart"] = connection(page, panel, until="gone")
    panel.scroll_into_view_if_needed()
    panel.screenshot(path=str(shots / "panel-notebook7-restarted.png"))


def lab_dark(page, base: str, token: str, name: str, shots: Path, out: dict, pid_dir: str) -> None:
    page.goto(f"{base}/lab/tree/{name}?token={token}", wait_until="domcontentloaded")
    page.locator(".jp-StatusBar-TextItem", has_text=name).first.wait_for(timeout=90_000)
    page.get_by_text("| Idle").first.wait_for(timeout=120_000)
    nb = page.locator(VISIBLE)
    run_all(page, nb)
    panel = nb.locator(".stallmagic-panel").first
    nb.locator(".stallmagic-finding").first.wait_for(timeout=180_000)
    page.wait_for_timeout(1500)
    out["lab_theme"] = page.evaluate("() => document.body.dataset.jpThemeName")
    out["lab_colours"] = panel.evaluate(COLOURS_JS)
    panel.scroll_into_view_if_needed()
    panel.screenshot(path=str(shots / "panel-lab-dark.png"))
    # the kernel dies (killed, as the system does when memory runs out) and the server restarts it: ipywidgets does
    # not mark its views for that; the panel must say its kernel is gone and turn its buttons off
    out["lab_before_death"] = still_live_after_hover(page, panel)
    os.kill(int((Path(pid_dir) / "kernel.pid").read_text()), signal.SIGKILL)
    out["lab_after_death"] = connection(page, panel, until="gone")
    ok = page.locator(".jp-Dialog button.jp-mod-accept")  # JupyterLab's own "the kernel appears to have died"
    if ok.count():
        ok.first.click()
        page.wait_for_timeout(500)
    panel.screenshot(path=str(shots / "panel-lab-dark-kernel-died.png"))


def main(base: str, token: str, quickstart: str, small: str, artifacts: str, root: str) -> dict:
    def run(page, shots: Path, out: dict) -> None:
        lab_dark(page, base, token, small, shots, out, root)
        notebook7(page, base, token, quickstart, shots, out)

    return in_browser(artifacts, "failure-frontends.png", run)


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:7])))
