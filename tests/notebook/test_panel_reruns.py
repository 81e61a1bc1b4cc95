"""The panel after Apply & rerun, on real training: the baseline's findings and its remaining fixes stay one click
away (issue 13, "nothing lost after a rerun").

A digits MLP trained with Adam at 0.3 (known fault: learning rate too high) is captured into a cell's runs and shown
in a :class:`~stallmagic.notebook.panel.Panel` in-process; its buttons are clicked with ``button.click()``, the
call a frontend's click message ends in.
"""

from __future__ import annotations

import keras
import pytest
import scenarios  # tests/ is on sys.path under pytest

import stallmagic
from stallmagic.notebook.cell import CellRuns
from stallmagic.notebook.panel import Panel


def ignore(obj, **kwargs) -> None:
    """A display that shows nothing."""


def html_of(widget) -> str:
    """Every HTML value under ``widget`` (what the frontend puts into the page)."""
    import ipywidgets

    out = [widget.value] if isinstance(widget, ipywidgets.HTML) else []
    out.extend(html_of(child) for child in getattr(widget, "children", ()) or ())
    return "\n".join(out)


@pytest.fixture(scope="module")
def rerun_panel():
    """The panel of a diagnosed lr_too_high baseline, after its learning-rate fix was applied from the panel."""
    pytest.importorskip("stallmagic.rerun", reason="the rerun engine is not in this tree")
    keras.utils.set_random_seed(0)
    model, fit_args = scenarios.lr_too_high()
    fit_args["epochs"] = 6
    cell = CellRuns(number=1, line="", source="model.fit(x, y)\n", label=None, metric=None)
    with stallmagic.capture(label="baseline") as session:
        model.fit(verbose=0, **fit_args)
    baseline = session.runs[-1]
    cell.session.runs.append(baseline)
    baseline.session = cell.session
    cell.diagnose(baseline)
    cell.selected = baseline
    panel = Panel(cell, display=ignore)
    panel.finish()
    first = panel.rerun_buttons[(baseline.index, "learning_rate")]
    assert first.description == "Apply & rerun" and not first.disabled
    assert not panel.rerun_buttons[(baseline.index, "gradient_clipping")].disabled
    first.click()
    return panel, cell, baseline


def test_after_a_rerun_the_baselines_findings_and_remaining_fixes_are_still_there(rerun_panel):
    panel, cell, baseline = rerun_panel
    assert panel.message.value == "", panel.message.value
    assert len(cell.runs) == 2 and cell.selected is cell.runs[1] and cell.runs[1].parent is baseline
    others = panel.findings_view.others
    assert others is not None and others.selected_index is None  # collapsed: the panel stays calm
    assert others.titles[0].startswith(f"Findings of {baseline.label}: ")
    assert "fix" in others.titles[0] and "not tried" in others.titles[0]
    assert "Learning rate too high" in html_of(others)  # the baseline's findings, one click away
    assert "Recall per class" in html_of(others)  # and its per-class view, as the static twin folds it
    applied = panel.rerun_buttons[(baseline.index, "learning_rate")]
    assert applied.disabled and applied.description == "Applied"  # an applied fix says so
    assert f"applied: {cell.runs[1].label}" in html_of(others)
    remaining = panel.rerun_buttons[(baseline.index, "gradient_clipping")]
    assert not remaining.disabled and remaining.description == "Apply & rerun"
    twin = panel.twin.html  # the static twin lists the same run under the same title
    assert f"<summary>{others.titles[0]}</summary>" in twin


def test_a_remaining_fix_of_the_baseline_reruns_from_the_baseline(rerun_panel):
    panel, cell, baseline = rerun_panel
    panel.findings_view.others.selected_index = 0  # the user opens the baseline's section ...
    panel.rerun_buttons[(baseline.index, "gradient_clipping")].click()  # ... and tries its next fix
    assert panel.message.value == "", panel.message.value
    assert len(cell.runs) == 3
    new = cell.runs[2]
    assert new.parent is baseline and new.remedy.code == "gradient_clipping"
    assert cell.selected is new
    others = panel.findings_view.others
    assert others.titles[0].startswith(f"Findings of {baseline.label}: ")
    assert others.selected_index == 0  # the section the user opened stays open after the rerun it started
    assert panel.rerun_buttons[(baseline.index, "gradient_clipping")].disabled


def test_every_button_on_show_is_disabled_when_the_panel_detaches(rerun_panel):
    """Two findings of the baseline offer a learning-rate remedy (lr_too_high and dying_relu): the buttons dict keeps
    one per code, and the other one stayed clickable-looking on a detached panel."""
    panel = rerun_panel[0]
    buttons = panel.findings_view.all_buttons
    assert len(buttons) > len(panel.rerun_buttons)
    panel.detach()
    assert all(button.disabled for button in buttons)
