"""The drawings on hand-made Runs: the gap's trend and orientation, the SVG and the matplotlib figure."""

from __future__ import annotations

import math

import numpy as np
from runs_by_hand import XSS, make_run  # tests/ is on sys.path under pytest

from stallmagic.render import plot


def test_gap_state_reads_the_trend():
    widening = plot.gap_state(plot.curves(make_run(gap_slope=0.01)))
    assert widening.direction == "widening" and widening.slope > 0
    assert "widening" in widening.text("train − val accuracy")
    flat = make_run(gap_slope=0.0)
    flat.logs["val_accuracy"] = [a - 0.05 for a in flat.logs["accuracy"]]
    assert plot.gap_state(plot.curves(flat)).direction == "stable"
    short = make_run(n=2)
    assert plot.gap_state(plot.curves(short)).direction == ""


def test_gap_is_oriented_so_positive_means_validation_lags():
    c = plot.curves(make_run(), metric="loss")
    assert c.metric == "loss" and not c.higher_is_better
    assert np.all(c.gap > 0) and c.gap_name == "val − train loss"


def test_svg_escapes_labels_and_survives_nan_and_single_epochs():
    run = make_run(label=XSS, extra_key=XSS)
    run.logs["val_loss"][3] = math.nan
    run.logs["val_accuracy"] = [math.nan] * 20
    picture = plot.svg([run], metric=XSS)
    assert picture.startswith("<svg") and "<img" not in picture and "&lt;img" in picture
    assert plot.svg([make_run(n=1)]).count("<polyline") >= 2
    assert plot.svg([]) == ""


def test_figure_draws_hostile_labels_literally():
    runs = [make_run(label="$\\alpha$ unbalanced $"), make_run(label="_hidden")]
    png = plot.figure_png(runs)
    assert png.startswith(b"\x89PNG")
    assert plot.mpl_text("_x") != "_x" and plot.mpl_text("$a$") == "\\$a\\$"


def test_beyond_the_palette_the_baseline_and_the_latest_runs_are_drawn_each_in_its_own_colour():
    from stallmagic.render.html import curves_html

    runs = [make_run(label=f"run {i}", n=3) for i in range(10)]
    shown = plot.drawn(runs)
    assert [r.label for r in shown] == ["run 0", *(f"run {i}" for i in range(3, 10))]
    page = curves_html(runs)  # the panel's final picture, its static twin's and the exported page's
    assert "run 1<" not in page and "run 2<" not in page and "run 9<" in page
    assert len({plot.colour_of(i) for i in range(len(shown))}) == len(shown) == len(plot.PALETTE)
