"""``%stall sweep`` returns its SweepResult, so Out[n] shows its repr: one line, however many rows and runs."""

from __future__ import annotations

from runs_by_hand import XSS, make_run  # tests/ is on sys.path under pytest

from stallmagic.rerun.sweep import SweepResult


def row(params: dict, mean: float | None) -> dict:
    return {"params": params, "mean": mean, "std": 0.0, "scores": [mean], "rank": None}


def test_sweep_result_repr_is_one_short_line():
    result = SweepResult(grid={"optimizer": ["adam", XSS]}, cv=None, metric="val_accuracy", higher_is_better=True,
                         total=6, runs=[make_run() for _ in range(6)])  # fmt: skip
    assert repr(result) == "<SweepResult: 0/6 configuration(s) on val_accuracy>"
    result.rows = [row({"optimizer": "adam", "learning_rate": 0.001}, 0.91), row({"optimizer": f"x\n{XSS}"}, None)]
    assert repr(result) == (
        "<SweepResult: 2/6 configuration(s) on val_accuracy, best {'optimizer': 'adam', 'learning_rate': 0.001} 0.91>"
    )
