"""``%%diagnose_fit`` and ``%stall`` in a real IPython shell: the cell runs as without the magic, the panel shows the
diagnosis, its Apply & rerun button reruns the training, and every user string is escaped.

The shell is IPython's test shell (``IPython.testing.globalipapp``), a real ``InteractiveShell``; it has no kernel,
so the panel is asked for with ``%config StallMagics.display = 'widgets'`` and its buttons are clicked from Python
with ``button.click()``, exactly the call the frontend's click message ends in.
"""

from __future__ import annotations

import html
import json
import sys

import keras
import pytest
import scenarios  # tests/ is on sys.path under pytest

from stallmagic.remedies import RemedyError

XSS = "<img src=x onerror=alert(1)>"
ORIGINAL_FIT = keras.Model.fit


@pytest.fixture(scope="module")
def ip():
    """IPython's test shell with the extension loaded (unloaded after the module)."""
    from IPython.testing.globalipapp import get_ipython

    shell = get_ipython()
    shell.run_line_magic("load_ext", "stallmagic")
    yield shell
    shell.run_line_magic("unload_ext", "stallmagic")


def small_fit(epochs: int, *, rows: int = 300, extra: str = "") -> str:
    """Source of a short fit of the small digits model (``m``), as a cell line."""
    return (
        f"m = small_model()\nm.fit(x_digits[:{rows}], y_digits[:{rows}], validation_split=0.2, epochs={epochs}, "
        f"verbose=0{extra})\n"
    )


def magics(ip):
    return ip.magics_manager.registry["StallMagics"]


@pytest.fixture()
def display(ip):
    """Set ``StallMagics.display`` for one test: ``display("widgets")``."""
    m = magics(ip)
    old = m.display

    def set_mode(mode: str):
        m.display = mode
        return m

    yield set_mode
    m.display = old


def run_ok(ip, source: str):
    result = ip.run_cell(source)
    assert result.success, result.error_in_exec or result.error_before_exec
    return result


def widget_text(widget) -> str:
    """Every string a frontend would show from a widget tree: HTML values, descriptions, tooltips, options."""
    out = []
    for attr in ("value", "description", "tooltip"):
        value = getattr(widget, attr, None)
        if isinstance(value, str):
            out.append(value)
    out.extend(getattr(widget, "_options_labels", ()) or ())
    out.extend(json.dumps(o) for o in getattr(widget, "outputs", ()) or ())
    out.extend(widget_text(child) for child in getattr(widget, "children", ()) or ())
    return "\n".join(out)


def widget_html(widget) -> str:
    """The strings a frontend puts into the page as HTML (``innerHTML``): the values of HTML widgets. Button
    descriptions, tooltips, dropdown options and Output streams are set as text by ipywidgets, never parsed."""
    import ipywidgets

    out = [widget.value] if isinstance(widget, (ipywidgets.HTML, ipywidgets.HTMLMath)) else []
    out.extend(widget_html(child) for child in getattr(widget, "children", ()) or ())
    return "\n".join(out)


@pytest.fixture(scope="module")
def digits_model(ip):
    """Digits (x, y) and a fresh small model builder in the user namespace."""
    run_ok(
        ip,
        "import keras\n"
        "from sklearn.datasets import load_digits\n"
        "x_digits, y_digits = load_digits(return_X_y=True)\n"
        "x_digits = (x_digits / 16.0).astype('float32')\n"
        "def small_model():\n"
        "    keras.utils.set_random_seed(0)\n"
        "    m = keras.Sequential([keras.Input((64,)), keras.layers.Dense(16, activation='relu'),\n"
        "                          keras.layers.Dense(10, activation='softmax')])\n"
        "    m.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])\n"
        "    return m\n",
    )
    return ip


# ---------------------------------------------------------------------------------------------------- loading


def test_import_does_not_import_ipython():
    import subprocess

    code = "import sys, stallmagic; print('IPython' in sys.modules, 'ipywidgets' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_unload_and_reload_leave_nothing_behind(ip, digits_model, display):
    display("text")
    assert "diagnose_fit" in ip.magics_manager.magics["cell"]
    run_ok(ip, "%%diagnose_fit\nm = small_model()\nm.fit(x_digits[:200], y_digits[:200], epochs=1, verbose=0)\n")
    m = magics(ip)
    session = m.cells[-1].session
    ip.run_line_magic("unload_ext", "stallmagic")
    try:
        assert "diagnose_fit" not in ip.magics_manager.magics["cell"]
        assert "stall" not in ip.magics_manager.magics["line"]
        assert "StallMagics" not in ip.magics_manager.registry
        assert m not in ip.configurables
        assert not session.listeners
        assert keras.Model.fit is ORIGINAL_FIT
        assert not sys.modules["stallmagic.capture"].is_patched()
        result = ip.run_cell("%%diagnose_fit\nz = 1\n")
        assert not result.success  # the magic is gone
    finally:
        ip.run_line_magic("load_ext", "stallmagic")
    ip.run_line_magic("reload_ext", "stallmagic")
    assert "diagnose_fit" in ip.magics_manager.magics["cell"]
    assert len([c for c in ip.configurables if type(c).__name__ == "StallMagics"]) == 1


# ---------------------------------------------------------------------------------------------------- the cell


def test_cell_runs_exactly_as_without_the_magic(ip, digits_model, display, capsys):
    display("text")
    body = (
        "m = small_model()\n"
        "print('hello from the cell')\n"
        "h = m.fit(x_digits[:300], y_digits[:300], validation_split=0.2, epochs=2, verbose=0)\n"
        "type(h).__name__, len(h.history['loss'])\n"
    )
    result = run_ok(ip, "%%diagnose_fit -o kept_run\n" + body)
    out = capsys.readouterr().out
    assert result.result == ("History", 2)  # the last expression is the cell's value, as without the magic
    assert ip.user_ns["_"] == ("History", 2)
    assert ip.user_ns["h"].history["loss"]  # variables land in the user's namespace
    assert out.index("hello from the cell") < out.index("[stallmagic]")
    run = ip.user_ns["kept_run"]
    assert run.epochs_done == 2 and run.report is not None
    assert keras.Model.fit is ORIGINAL_FIT

    plain = run_ok(ip, body)
    assert plain.result == result.result


def test_semicolon_and_interactivity_follow_ipython(ip, display, capsys):
    display("text")
    assert run_ok(ip, "%%diagnose_fit\n1 + 1;\n").result is None
    old = ip.ast_node_interactivity
    ip.ast_node_interactivity = "all"
    try:
        capsys.readouterr()
        result = run_ok(ip, "%%diagnose_fit\n'first-expr'\n'second-expr'\n")
        assert "first-expr" in capsys.readouterr().out
        assert result.result == "second-expr"
    finally:
        ip.ast_node_interactivity = old


def test_no_fit_cell_says_so_in_one_line(ip, display, capsys):
    display("text")
    result = run_ok(ip, "%%diagnose_fit\nanswer = 6 * 7\nanswer\n")
    assert result.result == 42
    lines = [line for line in capsys.readouterr().out.splitlines() if "stallmagic" in line]
    assert lines == ["[stallmagic] This cell called no Keras fit: nothing to diagnose."]

    display("widgets")
    run_ok(ip, "%%diagnose_fit\nanswer = 6 * 7\n")
    panel = magics(ip).views[-1]
    assert panel.root.children == (panel.css, panel.title)  # the css hides the static twin where this is live
    assert "called no Keras fit" in panel.title.value


def test_raising_cell_shows_partial_run_then_the_same_exception(ip, digits_model, display, capsys):
    display("text")
    run_ok(
        ip,
        "class FailAtSecondEpoch(keras.callbacks.Callback):\n"
        "    def on_epoch_end(self, epoch, logs=None):\n"
        "        if epoch == 1:\n"
        "            raise ValueError('bad data at epoch 2')\n",
    )
    capsys.readouterr()
    result = ip.run_cell(
        "%%diagnose_fit -o partial\nm = small_model()\n"
        "m.fit(x_digits[:300], y_digits[:300], validation_split=0.2, epochs=4, verbose=0,\n"
        "      callbacks=[FailAtSecondEpoch()])\n"
    )
    out = capsys.readouterr().out
    assert isinstance(result.error_in_exec, ValueError)
    assert str(result.error_in_exec) == "bad data at epoch 2"
    run = ip.user_ns["partial"]
    assert run.end == "error" and run.epochs_done == 1
    traceback_at = out.index("Traceback (most recent call last)")  # IPython's traceback follows the diagnosis
    assert out.index("Why is validation accuracy stuck?") < traceback_at
    assert "It ended with ValueError: bad data at epoch 2" in out[:traceback_at]
    assert "Cell In[" in out and "callbacks=[FailAtSecondEpoch()]" in out  # the user's cell lines are shown
    assert keras.Model.fit is ORIGINAL_FIT


def test_keyboard_interrupt_keeps_the_partial_run_and_still_interrupts(ip, digits_model, display, capsys):
    display("text")
    run_ok(
        ip,
        "class InterruptAtSecondEpoch(keras.callbacks.Callback):\n"
        "    def on_epoch_end(self, epoch, logs=None):\n"
        "        if epoch == 1:\n"
        "            raise KeyboardInterrupt\n",
    )
    result = ip.run_cell("%%diagnose_fit -o stopped\n" + small_fit(4, extra=", callbacks=[InterruptAtSecondEpoch()]"))
    assert isinstance(result.error_in_exec, KeyboardInterrupt)
    assert ip.user_ns["stopped"].end == "interrupted"
    assert "interrupted after" in capsys.readouterr().out
    assert keras.Model.fit is ORIGINAL_FIT


def test_an_exception_whose_str_raises_is_raised_unchanged_and_ends_the_run(ip, digits_model, display, capsys):
    """Issue 12, item 5: recording the error called str() on it, so the cell raised a RuntimeError (the user's
    exception only as its context) and the run stayed 'running'."""
    display("text")
    run_ok(
        ip,
        "class Unprintable(Exception):\n"
        "    def __str__(self):\n"
        "        raise RuntimeError('this exception cannot be printed')\n"
        "class RaiseUnprintable(keras.callbacks.Callback):\n"
        "    def on_epoch_end(self, epoch, logs=None):\n"
        "        global unprintable\n"
        "        unprintable = Unprintable()\n"
        "        raise unprintable\n",
    )
    capsys.readouterr()
    result = ip.run_cell("%%diagnose_fit -o unprintable_run\n" + small_fit(3, extra=", callbacks=[RaiseUnprintable()]"))
    assert result.error_in_exec is ip.user_ns["unprintable"]  # the same object, so the same type
    run = ip.user_ns["unprintable_run"]
    assert run.end == "error" and run.error.type == "Unprintable" and run.epochs_done == 0
    assert "[stallmagic] It ended with Unprintable: <Unprintable object>;" in capsys.readouterr().out
    assert keras.Model.fit is ORIGINAL_FIT


def test_a_fit_the_cell_assigns_to_keras_model_stays_after_the_cell(ip, digits_model, display):
    """Issue 12, item 6: the end of the capture deleted ``keras.Model.fit``, and with it the user's assignment."""
    display("text")
    try:
        run_ok(
            ip,
            "%%diagnose_fit\n"
            "fit_before = keras.Model.fit\n"
            "def my_fit(self, *args, **kwargs):\n"
            "    return fit_before(self, *args, **kwargs)\n"
            "keras.Model.fit = my_fit\n",
        )
        assert keras.Model.__dict__.get("fit") is ip.user_ns["my_fit"]
    finally:
        if "fit" in keras.Model.__dict__:
            del keras.Model.fit
    assert keras.Model.fit is ORIGINAL_FIT


def test_an_argument_error_reads_as_without_the_magic(ip, digits_model, display):
    """Issue 12, item 7: a duplicate keyword named stallmagic's module in Keras's TypeError."""
    display("text")
    body = "m = small_model()\nm.fit(x_digits[:50], y_digits[:50], epochs=1, verbose=0, **{'epochs': 2})\n"
    plain = ip.run_cell(body).error_in_exec
    magic = ip.run_cell("%%diagnose_fit\n" + body).error_in_exec
    assert type(magic) is type(plain) is TypeError
    assert str(magic) == str(plain)
    assert str(plain).startswith(f"{ORIGINAL_FIT.__module__}.{ORIGINAL_FIT.__qualname__}() got multiple values")


def test_a_syntax_error_shows_as_ipython_shows_it(ip, display, capsys):
    """Issue 12, item 8: a cell that does not parse showed frames of magic.py and IPython's compilerop.py; without
    the magic IPython shows where the error is and the message, and records it as an error before execution."""
    display("text")
    cells = len(magics(ip).cells)
    capsys.readouterr()
    plain = ip.run_cell("x = (1,\n")
    plain_out = capsys.readouterr().out
    magic = ip.run_cell("%%diagnose_fit\nx = (1,\n")
    magic_out = capsys.readouterr().out
    assert isinstance(plain.error_before_exec, SyntaxError)
    assert magic_out == plain_out.replace(", line 1", ", line 2")  # the magic's own line is line 1 of the cell
    assert "Traceback" not in magic_out and "compilerop" not in magic_out
    assert isinstance(magic.error_before_exec, SyntaxError) and magic.error_in_exec is None and not magic.success
    assert not ip.last_execution_succeeded
    assert len(magics(ip).cells) == cells  # nothing ran: no cell recorded, none released

    ip.run_cell("print('before the error')\nreturn 1\n")  # parses, but does not compile: earlier lines ran
    plain_out = capsys.readouterr().out
    magic = ip.run_cell("%%diagnose_fit\nprint('before the error')\nreturn 1\n")
    magic_out = capsys.readouterr().out
    shown = plain_out.split("before the error\n", 1)[1].replace(", line 2", ", line 3")
    assert magic_out.startswith("before the error\n") and magic_out.endswith(shown)
    assert "Traceback" not in magic_out and isinstance(magic.error_before_exec, SyntaxError)
    run_ok(ip, "%%diagnose_fit\nfirst = 1\nfrom __future__ import nested_scopes\n")  # compiled one at a time too


def test_exception_before_any_fit_is_raised_unchanged(ip, display, capsys):
    display("text")
    result = ip.run_cell("%%diagnose_fit\nraise KeyError('missing column')\n")
    assert isinstance(result.error_in_exec, KeyError)
    out = capsys.readouterr().out
    assert "raised before any Keras fit" in out
    assert out.index("raised before any Keras fit") < out.index("KeyError")


def test_unknown_metric_is_a_warning_that_lists_the_logged_ones(ip, digits_model, display, capsys):
    display("text")
    run_ok(ip, "%%diagnose_fit --metric auc\n" + small_fit(1, rows=200))
    out = capsys.readouterr().out
    assert "The metric 'auc' was not logged by this run. Available metrics are: accuracy, loss" in out


def test_usage_errors_are_one_sentence(ip, capsys):
    from IPython.core.error import UsageError

    for line, expected in [
        ("%%diagnose_fit -o 1x\nz = 1\n", "must be a Python variable name"),
        ("%%diagnose_fit --bogus\nz = 1\n", "unrecognized arguments"),
    ]:
        result = ip.run_cell(line)
        assert isinstance(result.error_in_exec, UsageError)
        assert expected in str(result.error_in_exec)
    with pytest.raises(UsageError, match="Unknown %stall command"):
        ip.run_line_magic("stall", "frobnicate")
    with pytest.raises(UsageError, match=r"\.html, \.json or \.md"):
        ip.run_line_magic("stall", "export report.txt")


def test_stall_arguments_are_checked_in_one_sentence(ip):
    """Beyond the list (issue 12): ``%stall rerun ²`` passed str.isdigit() and then int() raised ValueError, and
    words beyond what a command takes were ignored without a word."""
    from IPython.core.error import UsageError

    for line, expected in [
        ("rerun ²", "%stall rerun needs the number of a fix"),
        ("report ²", "No run is labelled '²'."),
        ("report 1 2", "%stall report takes at most 1 argument(s): %stall report [RUN]. Got 2: 1 2."),
        ("rerun 1 2 3", "%stall rerun takes at most 2 argument(s): %stall rerun N [RUN]. Got 3: 1 2 3."),
        ("compare now", "%stall compare takes at most 0 argument(s): %stall compare. Got 1: now."),
    ]:
        with pytest.raises(UsageError) as caught:
            ip.run_line_magic("stall", line)
        assert str(caught.value).startswith(expected), (line, str(caught.value))


def test_text_report_without_a_widget_frontend(ip, digits_model, display, capsys):
    display("auto")  # the test shell has no kernel: text
    run_ok(ip, "%%diagnose_fit\n" + small_fit(2))
    out = capsys.readouterr().out
    assert "[stallmagic] Why is validation accuracy stuck?" in out
    assert type(magics(ip).views[-1]).__name__ == "TextView"
    # the recall per class the panel shows, as lines (worst first, the classes past ten counted)
    assert "Recall per class (validation sample of" in out
    view = magics(ip).cells[-1].last.report.per_class
    worst = view.worst_first()[0]
    assert f"  {view.classes[worst]}: validation {view.val_recall[worst]:.2f}" in out


def test_old_cells_release_their_models_and_data(ip, digits_model, display):
    m = display("widgets")
    old = m.keep_cells
    m.keep_cells = 1
    try:
        run_ok(ip, "%%diagnose_fit\n" + small_fit(1, rows=200))
        first, first_panel = m.cells[-1], m.views[-1]
        assert first.runs[0].keras_model is not None
        run_ok(ip, "%%diagnose_fit\n" + small_fit(1, rows=200))
    finally:
        m.keep_cells = old
    assert first.released and first.runs[0].keras_model is None and first.runs[0].data is None
    assert first.runs[0].initial_weights is None and getattr(first.runs[0], "final_weights", None) is None
    assert first.runs[0].report is not None  # the record and its diagnosis stay
    assert first_panel.detached and "released" in first_panel.message.value
    assert first_panel not in m.views and m.cells[-1].runs[0].keras_model is not None
    with pytest.raises(RemedyError, match="released"):
        first.rerun(first.runs[0], None)


def test_a_released_run_says_it_was_released_and_how_to_keep_more(ip, digits_model, display):
    """Issue 12, item 15: rerunning a run released by keep_cells said it "was loaded from a file, or not captured in
    this process", and ``%stall rerun N`` on it raised a RuntimeError traceback instead of a UsageError."""
    from IPython.core.error import UsageError

    m = display("text")
    old = m.keep_cells
    m.keep_cells = 1
    try:
        run_ok(ip, "%%diagnose_fit -o released_run\n" + small_fit(1, rows=200))
        run_ok(ip, "%%diagnose_fit\n" + small_fit(1, rows=200))
    finally:
        m.keep_cells = old
    run = ip.user_ns["released_run"]
    why = (
        "its cell's models and data were released to save memory (%%diagnose_fit keeps those of the latest 1 "
        "cell(s); %config StallMagics.keep_cells = 2 keeps more); run the cell again to train it anew."
    )
    with pytest.raises(RemedyError) as rerun:
        run.rerun()
    assert str(rerun.value) == f"{run.label} cannot be rerun: {why}"
    with pytest.raises(RemedyError) as restore:
        run.restore()
    assert str(restore.value) == f"{run.label} cannot be restored: {why}"
    number = [r for _, r in m._all_runs()].index(run) + 1
    with pytest.raises(UsageError) as stall:
        ip.run_line_magic("stall", f"rerun 1 {number}")
    assert str(stall.value) == f"{run.label} cannot be rerun: {why}"


# ---------------------------------------------------------------------------------------------------- the panel


@pytest.fixture(scope="module")
def imbalance(ip):
    """A cell training on 95:5 imbalanced data (known fault: class imbalance), with a hostile --name and a user
    callback that logs a hostile key; then the Apply & rerun button of the class-weight remedy is clicked."""
    pytest.importorskip("stallmagic.rerun", reason="the rerun engine (issue 4) is not in this tree")
    model, fit_args = scenarios.class_imbalance()
    ip.push({"imb_model": model, "imb_x": fit_args["x"], "imb_y": fit_args["y"], "XSS": XSS})
    run_ok(
        ip,
        "class LogsHostileKey(keras.callbacks.Callback):\n"
        "    def on_epoch_end(self, epoch, logs=None):\n"
        "        logs[XSS] = float(epoch)\n",
    )
    m = magics(ip)
    old = m.display
    m.display = "widgets"
    try:
        keras.utils.set_random_seed(0)
        run_ok(
            ip,
            f'%%diagnose_fit --name "{XSS}" -o imb_run\n'
            "history = imb_model.fit(imb_x, imb_y, validation_split=0.25, epochs=6, batch_size=64, verbose=0,\n"
            "                        callbacks=[LogsHostileKey()])\n",
        )
        panel = m.views[-1]
        cell = m.cells[-1]
        before = {"runs": len(cell.runs), "html": widget_text(panel.root), "curves": panel.curves.value}
        button = panel.rerun_buttons.get((0, "class_weight"))
        assert button is not None, f"no Apply & rerun button for class_weight: {sorted(panel.rerun_buttons)}"
        assert button.description == "Apply & rerun" and not button.disabled
        button.click()
    finally:
        m.display = old
    return {"panel": panel, "cell": cell, "before": before, "magics": m}


def test_panel_shows_findings_and_curves(imbalance):
    panel, before = imbalance["panel"], imbalance["before"]
    assert before["runs"] == 1
    assert before["curves"].count("<polyline") >= 4 and 'fill="currentColor"' in before["curves"]
    assert "Class imbalance" in before["html"]
    assert "confidence" in before["html"] and "Evidence" in before["html"]
    assert panel.displayed and "stallmagic-panel" in panel.root._dom_classes
    assert panel.throttle.draws >= 1  # the live view drew during the fit


def test_apply_and_rerun_adds_a_second_run_and_the_runs_table(imbalance):
    panel, cell = imbalance["panel"], imbalance["cell"]
    assert panel.message.value == "", panel.message.value
    assert len(cell.runs) == 2
    baseline, rerun = cell.runs
    assert rerun.parent is baseline and rerun.remedy.code == "class_weight"
    assert rerun.end == "completed" and rerun.report is not None
    assert cell.selected is rerun
    table = panel.runs_html.value
    assert table.count('class="stallmagic-run-row"') == 2
    assert "Balanced class weights" in table or rerun.remedy.title in table
    assert panel.runs_box.layout.display == ""
    assert panel.curves.value != imbalance["before"]["curves"] and html.escape(rerun.label) in panel.curves.value
    assert all(not b.disabled for b in (panel.sweep_button, panel.export_button))


def test_keep_this_fix_shows_the_code_and_stall_keep_inserts_it(ip, imbalance, capsys):
    panel, m = imbalance["panel"], imbalance["magics"]
    panel.keep_button.click()
    assert "class_weight" in panel.code_box.value
    assert "%stall keep" in panel.code_box.value
    assert m.kept is not None and m.kept[1] is imbalance["cell"].runs[1]
    ip.run_line_magic("stall", "keep")
    assert ip.rl_next_input.startswith("%%diagnose_fit")
    assert "class_weight" in ip.rl_next_input


def test_stall_commands(ip, imbalance, tmp_path, capsys):
    ip.run_line_magic("stall", "report")
    ip.run_line_magic("stall", "compare")
    ip.run_line_magic("stall", "runs")
    out = capsys.readouterr().out
    assert "Why is validation accuracy stuck?" in out
    assert "Balanced class weights" in out
    for suffix in (".html", ".json", ".md"):
        ip.run_line_magic("stall", f"export {tmp_path / ('report' + suffix)}")
        assert (tmp_path / ("report" + suffix)).stat().st_size > 100
    doc = json.loads((tmp_path / "report.json").read_text())
    assert len(doc["runs"]) == 2


def test_an_export_the_system_refuses_is_a_one_line_usage_error(ip, digits_model, imbalance, tmp_path):
    """Issue 12, item 9: ``%stall export x.html`` onto a folder of that name showed a raw pathlib traceback."""
    from IPython.core.error import UsageError

    target = tmp_path / "x.html"
    target.mkdir()
    with pytest.raises(UsageError) as caught:
        ip.run_line_magic("stall", f"export {target}")
    assert str(caught.value) == f"Cannot export to {str(target)!r}: a folder of that name is in the way."


def test_user_strings_are_escaped_in_the_panel_and_the_export(ip, imbalance, tmp_path):
    panel, cell = imbalance["panel"], imbalance["cell"]
    assert XSS in cell.runs[0].logs  # the hostile key really was logged ...
    assert cell.runs[0].label == XSS  # ... and the hostile label used
    html = widget_html(panel.root)
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<img" not in html
    twin = panel.twin._repr_mimebundle_()["text/html"]  # the static twin too
    assert "<img" not in twin and "&lt;img src=x onerror=alert(1)&gt;" in twin
    path = tmp_path / "escaped.html"
    cell.export(path)
    page = path.read_text()
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_hostile_metric_and_exception_message_are_escaped(ip, digits_model, display):
    display("widgets")
    ip.push({"XSS": XSS})
    run_ok(
        ip,
        "class HostileFailure(keras.callbacks.Callback):\n"
        "    def on_epoch_end(self, epoch, logs=None):\n"
        "        logs[XSS] = 0.5\n"
        "        if epoch == 1:\n"
        "            raise RuntimeError(XSS)\n",
    )
    result = ip.run_cell(f"%%diagnose_fit --metric '{XSS}'\n" + small_fit(3, extra=", callbacks=[HostileFailure()]"))
    assert isinstance(result.error_in_exec, RuntimeError) and str(result.error_in_exec) == XSS
    panel = magics(ip).views[-1]
    assert panel.cell.metric == XSS and panel.cell.metric_note(panel.cell.runs[0]) is None  # it was logged
    html = widget_html(panel.root)
    assert "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # the message and the metric are shown, escaped


def test_click_errors_go_into_the_panel(ip, digits_model, display, monkeypatch):
    display("widgets")
    run_ok(ip, "%%diagnose_fit\n" + small_fit(1))
    panel = magics(ip).views[-1]

    def broken(run, remedy):
        raise RuntimeError(f"engine exploded {XSS}")

    monkeypatch.setattr(panel.cell, "rerun", broken)
    panel._on_rerun(panel.cell.runs[0], None, None)  # what a button's click ends in
    assert "engine exploded" in panel.message.value and "<img" not in panel.message.value
    assert any("RuntimeError" in o.get("text", "") for o in panel.log.outputs)
    assert panel.busy is None and not panel.export_button.disabled


def test_sweep_button_ranks_optimizers_in_the_panel(ip, digits_model, display):
    pytest.importorskip("stallmagic.rerun", reason="the rerun engine (issue 4) is not in this tree")
    display("widgets")
    run_ok(ip, "%%diagnose_fit\n" + small_fit(2, rows=300))
    panel = magics(ip).views[-1]
    runs_before = len(panel.cell.runs)
    shown = []  # what the sweep box held while the sweep ran: the live table of trials first
    panel.sweep_box.observe(lambda change: shown.append(change["new"]), names="children")
    panel.sweep_button.click()
    assert "failed" not in panel.message.value, panel.message.value
    table = shown[0][0].value
    assert 'class="stallmagic-sweep-board"' in table and "6/6 trials done, 0 running" in table
    text = widget_html(panel.sweep_box)
    assert "Sweep of 6 configuration(s)" in text and "Best:" in text
    assert len(panel.cell.runs) == runs_before  # the sweep's trainings live in their own session


def test_find_a_fix_button_repairs_a_run_and_selects_the_best(ip, digits_model, display):
    display("widgets")
    run_ok(
        ip,
        "%%diagnose_fit\nm = small_model()\nm.compile(optimizer=keras.optimizers.SGD(3.0), "
        "loss='sparse_categorical_crossentropy', metrics=['accuracy'])\n"
        "m.fit(x_digits[:600], y_digits[:600], validation_split=0.25, epochs=4, verbose=0)\n",
    )
    panel = magics(ip).views[-1]
    start = panel.cell.runs[0]
    assert max(start.logs["val_accuracy"]) < 0.5
    panel.repair_button.click()
    assert "failed" not in panel.message.value, panel.message.value
    result = panel.cell.repair_result
    assert result.helped and panel.cell.selected is result.best and result.best in panel.cell.runs
    assert "Found a fix" in widget_html(panel.sweep_box)
    assert max(result.best.logs["val_accuracy"]) > 0.8
    assert not panel.keep_button.disabled  # the best run's chain is kept as code in one step
    kept = panel.cell.keep_source(result.best)
    compile(kept.split("\n", 1)[1], "<kept>", "exec")
    assert "SGD(3.0)" not in kept


def test_a_click_queued_during_an_action_is_ignored(ip, digits_model, display, monkeypatch):
    display("widgets")
    run_ok(ip, "%%diagnose_fit\nm = small_model()\nm.fit(x_digits[:200], y_digits[:200], epochs=1, verbose=0)\n")
    panel = magics(ip).views[-1]
    calls = []
    monkeypatch.setattr(panel.cell, "export", lambda path: calls.append(path) or [path])
    panel.export_button.click()
    panel.export_button.click()  # arrives right after the first action finished: a queued double click
    assert len(calls) == 1


def test_stall_rerun_leaves_nothing_in_out_and_runs_have_a_one_line_repr(ip, digits_model, display, capsys):
    """Issue 13: ``%stall rerun N`` returned the Run, and Out[n] showed its 4,000-character dataclass repr."""
    display("widgets")
    run_ok(
        ip,
        "%%diagnose_fit -o fast_run\nm = small_model()\nm.compile(optimizer=keras.optimizers.SGD(3.0), "
        "loss='sparse_categorical_crossentropy', metrics=['accuracy'])\n"
        "m.fit(x_digits[:400], y_digits[:400], validation_split=0.25, epochs=3, verbose=0)\n",
    )
    panel = magics(ip).views[-1]
    cell = panel.cell
    kept = ip.user_ns["fast_run"]  # -o VAR still holds the cell's last Run
    assert kept is cell.runs[0]
    line = repr(kept)
    assert "\n" not in line and len(line) < 200 and line.startswith("<Run 'run ") and line.endswith(f", {kept.end}>")
    assert f"{kept.epochs_done}/{kept.fit.epochs_asked} epochs" in line and "best val_accuracy" in line
    capsys.readouterr()
    result = ip.run_cell("%stall rerun 1")
    assert result.success and result.result is None  # nothing for Out[n]
    assert len(cell.runs) == 2
    assert "[stallmagic]" in capsys.readouterr().out
    assert html.escape(cell.runs[1].label) in panel.twin.html  # the static twin was redrawn after the rerun


def test_stall_sweep_shows_a_live_table_of_its_trials(ip, digits_model, display):
    """``%stall sweep`` in a notebook: one display output, replaced in place, with a row per trial (its configuration,
    epochs and score), instead of a printed line per finished trial."""
    display("widgets")
    run_ok(ip, "%%diagnose_fit\n" + small_fit(2, rows=300))
    result = ip.run_line_magic("stall", "sweep")
    view = magics(ip).sweep_view
    board = view.board
    assert sorted(board.trials) == [1, 2, 3, 4, 5, 6] and board.done == 6 and not board.running()
    for row in result.rows:  # the table's score of each trial is its row's
        trial = board.trials[row["trial"]]
        assert trial["state"] == "done" and trial["score"] == row["mean"] and trial["epoch"] == trial["epochs"] == 2
    assert "Sweep in this process: 6/6 trials done, 0 running (val_accuracy)" in view.output.text
    assert 'class="stallmagic-sweep-board"' in view.output.html and view.draws >= 6


def test_stall_sweep_options_are_one_sentence_each(ip, digits_model, display, monkeypatch):
    """``--engine ray`` and its options: mistakes, and Ray missing, are one UsageError line before anything trains."""
    from IPython.core.error import UsageError

    display("text")
    run_ok(ip, "%%diagnose_fit\n" + small_fit(1, rows=200))
    cell = magics(ip).cells[-1]
    wrong = {
        "sweep --engine spark": r"argument --engine: invalid choice: 'spark'",
        "report --engine ray": r"--engine is an option of %stall sweep only\. Got %stall report\.",
        "sweep --scheduler asha": r"--scheduler of %stall sweep needs --engine ray",
        "sweep --engine ray --samples 3": r"--samples N of %stall sweep counts .* Got --samples 3 without --search\.",
        "sweep --engine process 99": r"There is no run 99",  # the run after the options: read, not refused
    }
    for line, message in wrong.items():
        with pytest.raises(UsageError, match=message):
            ip.run_line_magic("stall", line)
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed: `import ray` raises ImportError
    with pytest.raises(UsageError) as caught:
        ip.run_line_magic("stall", "sweep --engine ray --scheduler asha")
    message = str(caught.value)
    assert "needs Ray Tune" in message and "pip install 'stallmagic[ray]'" in message and "\n" not in message
    assert cell.sweep_result is None and len(cell.runs) == 1  # nothing trained


def test_stall_sweep_on_ray_refuses_a_model_it_cannot_rebuild_in_one_line(ip, digits_model, display):
    from IPython.core.error import UsageError

    pytest.importorskip("ray.tune")
    display("widgets")
    run_ok(
        ip,
        "%%diagnose_fit\nm = keras.Sequential([keras.Input((64,)), keras.layers.Lambda(lambda t: t * 2.0),\n"
        "                        keras.layers.Dense(10, activation='softmax')])\n"
        "m.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])\n"
        "m.fit(x_digits[:200], y_digits[:200], validation_split=0.2, epochs=1, verbose=0)\n",
    )
    with pytest.raises(UsageError) as caught:
        ip.run_line_magic("stall", "sweep --engine ray")
    message = str(caught.value)
    assert message.startswith("The sweep could not run: engine='ray' cannot rebuild the model of ")
    assert "Lambda layer" in message and "\n" not in message
    assert message.endswith("(%stall sweep without --engine ray).") and "engine='process'" not in message
    assert magics(ip).cells[-1].sweep_result is None
