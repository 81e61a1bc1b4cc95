"""The live table of a sweep's trials: per-epoch updates redraw only when the throttle allows (a virtual clock), a
trial's end and the sweep's end always redraw, every string from the grid is escaped, and the display output is
replaced in place by its display_id. No training: the view's inputs are the sweep hooks' plain data."""

from __future__ import annotations

from stallmagic.notebook.sweep_view import SweepView, in_output, in_widget
from stallmagic.notebook.throttle import Throttle
from stallmagic.rerun.sweep_progress import TrialEpoch

XSS = "<img src=x onerror=alert(1)>"


class Clock:
    """Seconds that move only when told to."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def update(trial: int, epoch: int, value: float, optimizer: str = "adam") -> TrialEpoch:
    return TrialEpoch.of(
        trial=trial,
        total=2,
        params={"optimizer": optimizer, "learning_rate": 0.01},
        fold=None,
        epoch=epoch,
        epochs=50,
        metric="val_accuracy",
        logs={"val_accuracy": value},
    )


def test_epochs_redraw_within_the_throttles_budget_and_ends_always_redraw():
    clock, shown = Clock(), []
    view = SweepView(lambda html, text: shown.append(text), throttle=Throttle(min_interval=0.2), clock=clock)
    for epoch in range(1, 51):  # two trials side by side, 50 ms epochs: 100 updates in 2.5 s
        clock.now += 0.025
        view.on_epoch(update(1, epoch, 0.5 + epoch / 200))
        clock.now += 0.025
        view.on_epoch(update(2, epoch, 0.4))
    assert 2 <= len(shown) <= 2.5 / 0.2 + 1  # at most one redraw per min_interval, not one per update
    view.progress(1, 2, {"trial": 1, "params": {"optimizer": "adam", "learning_rate": 0.01}, "mean": 0.75,
                         "epochs": [50]})  # fmt: skip
    assert len(shown) == view.draws and "1/2 trials done, 1 running" in shown[-1]
    view.finish()  # trial 2 never ended: the sweep was stopped
    lines = shown[-1].splitlines()
    assert lines[0] == "Sweep in this process: 1/2 trials done, 0 running (val_accuracy)"
    assert "optimizer=adam, learning_rate=0.01" in lines[1] and "0.75" in lines[1] and lines[1].endswith("done")
    assert lines[2].endswith("interrupted") and "epoch 50/50" in lines[2]


def test_the_table_escapes_the_grid_and_replaces_its_output_in_place():
    calls = []

    def display(obj, *, display_id, update):
        calls.append((display_id, update, obj._repr_mimebundle_()))

    view = in_output(engine="ray", display=display)
    view.on_epoch(update(1, 1, 0.5, optimizer=XSS))
    view.progress(1, 1, {"trial": 1, "params": {"optimizer": XSS}, "mean": 0.5, "epochs": [1]})
    assert len(calls) == 2 and calls[0][1] is False and calls[1][1] is True  # shown once, then updated
    assert len({i for i, _, _ in calls}) == 1  # one output, replaced
    bundle = calls[-1][2]
    assert "<img" not in bundle["text/html"] and "&lt;img src=x onerror=alert(1)&gt;" in bundle["text/html"]
    assert bundle["text/plain"].startswith("Sweep on Ray Tune: 1/2 trials done, 0 running")

    class Widget:
        value = ""

    widget = Widget()
    in_widget(widget).progress(1, 1, {"trial": 1, "params": {"optimizer": "sgd"}, "mean": 0.25, "epochs": [3]})
    assert 'class="stallmagic-sweep-board"' in widget.value and "optimizer=sgd" in widget.value
