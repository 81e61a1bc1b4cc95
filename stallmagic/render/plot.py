"""Drawing Runs: the loss, the chosen metric and the train/validation gap, for the panel and the exported report.

Two renderers share one set of series (:func:`curves`):

* :func:`figure` draws a matplotlib ``Figure`` (what the finished panel shows and the HTML report embeds). It costs
  tens of milliseconds, too much to redraw every epoch of a short fit.
* :func:`svg` writes the same three plots as a small inline SVG string in well under a millisecond, so the live
  view can follow a fit of 50 ms epochs and stay within its time budget. It is also the final picture of the
  panel, of its static copy and of the exported HTML page: its frames and labels are drawn in ``currentColor``, so
  they follow the page's text colour (JupyterLab's dark theme included), where a PNG would stay an opaque white
  image. Matplotlib stays for PNG files (the markdown report).

Every label that comes from the user (run labels, metric names) is escaped for the target: XML escaping in the
SVG, and matplotlib's mathtext and legend conventions in the figure. Matplotlib is imported only when a figure is
drawn.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any

import numpy as np

from ..diagnosis.signals import resolve_metric
from ..diagnosis.trend import end_window, fit_trend, robust_noise
from ..record import Run
from .marks import Mark

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Colours of successive runs (the first is the baseline); the same in the SVG and in matplotlib.
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")
#: Colour of earlier runs drawn behind the one being trained.
FADED = "#b0b0b0"


@dataclass(frozen=True)
class Curves:
    """The per-epoch series one picture of a run needs.

    Attributes:
        label: The run's label.
        epochs: Epoch numbers, 1-based (``initial_epoch`` respected).
        loss, val_loss: The loss curves (``val_loss`` is ``None`` without validation).
        metric: The training key read as "accuracy" (``None`` when the run logged only the loss).
        train, val: That metric's curves (``val`` is ``None`` without validation).
        higher_is_better: Whether larger values of ``metric`` are better.
        gap: Per epoch, how much worse validation is than training on ``metric`` (``train - val`` for an
            accuracy-like metric, ``val - train`` for a loss), so a positive gap always means validation lags.
            ``None`` without validation.
    """

    label: str
    epochs: np.ndarray
    loss: np.ndarray | None
    val_loss: np.ndarray | None
    metric: str | None
    train: np.ndarray | None
    val: np.ndarray | None
    higher_is_better: bool
    gap: np.ndarray | None

    @property
    def gap_name(self) -> str:
        """How the gap is computed, in words: ``"train − val accuracy"`` or ``"val − train loss"``."""
        name = self.metric or "loss"
        return f"train − val {name}" if self.higher_is_better else f"val − train {name}"


def curves(run: Run, *, metric: str | None = None) -> Curves:
    """The series of ``run`` for ``metric`` (default: the first accuracy-like metric, else the loss)."""
    choice = resolve_metric(run.logs, metric, run.judged_output)
    epochs = np.asarray(run.epochs, dtype=float) + 1.0

    def series(key: str | None) -> np.ndarray | None:
        values = run.logs.get(key) if key else None
        if values is None:
            return None
        return np.asarray(values[: len(epochs)], dtype=float)

    train, val = series(choice.train_key), series(choice.val_key)
    gap = None
    if train is not None and val is not None:
        gap = train - val if choice.higher_is_better else val - train
    return Curves(
        label=run.label,
        epochs=epochs,
        loss=series("loss"),
        val_loss=series("val_loss"),
        metric=choice.train_key,
        train=train,
        val=val,
        higher_is_better=choice.higher_is_better,
        gap=gap,
    )


@dataclass(frozen=True)
class GapState:
    """The gap now and where it is heading: ``value`` (last finite gap) and ``slope`` per epoch over the end
    window; ``direction`` is ``"widening"``, ``"narrowing"`` or ``"stable"`` (a slope that does not stand out of
    the curve's own epoch-to-epoch noise, the diagnosis's test) or ``""`` with too few epochs to tell."""

    value: float
    slope: float
    direction: str

    def text(self, name: str) -> str:
        """One line, e.g. ``"gap (train − val accuracy) 0.124, widening (+0.0041/epoch)"``."""
        out = f"gap ({name}) {self.value:+.3g}"
        if self.direction:
            out += f", {self.direction}"
            if self.direction != "stable" and math.isfinite(self.slope):
                out += f" ({self.slope:+.2g}/epoch)"
        return out


def gap_state(c: Curves) -> GapState | None:
    """Current value and trend of the gap; ``None`` when the run has no finite gap yet."""
    if c.gap is None:
        return None
    finite = c.gap[np.isfinite(c.gap)]
    if not len(finite):
        return None
    direction = ""
    slope = math.nan
    if len(finite) >= 3:
        trend = fit_trend(finite, end_window(len(finite)), robust_noise(finite))
        slope = trend.slope
        direction = ("widening" if slope > 0 else "narrowing") if trend.significant else "stable"
    return GapState(float(finite[-1]), slope, direction)


def _finite_xy(x: np.ndarray, y: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    if y is None:
        return np.empty(0), np.empty(0)
    n = min(len(x), len(y))
    ok = np.isfinite(y[:n])
    return x[:n][ok], y[:n][ok]


def _log_scale(values: Sequence[np.ndarray | None]) -> bool:
    """Whether a loss axis reads better in log scale: all positive and spanning more than two decades."""
    parts = [v[np.isfinite(v)] for v in values if v is not None]
    parts = [p for p in parts if len(p)]
    if not parts:
        return False
    allv = np.concatenate(parts)
    return bool(allv.min() > 0 and allv.max() / allv.min() > 100)


# ---------------------------------------------------------------------------------------------------- SVG


def _panels(c: Curves) -> list[tuple[str, str]]:
    """(kind, title) of the plots for ``c``: loss, the metric (when it is not the loss) and the gap."""
    out = [("loss", "loss")]
    if c.metric and c.metric != "loss":
        out.append(("metric", c.metric))
    out.append(("gap", f"gap ({c.gap_name})"))
    return out


def _series_for(c: Curves, kind: str) -> list[tuple[np.ndarray | None, bool]]:
    """[(values, is_validation)] of one plot."""
    if kind == "loss":
        return [(c.loss, False), (c.val_loss, True)]
    if kind == "metric":
        return [(c.train, False), (c.val, True)]
    return [(c.gap, True)]


#: The SVG's layout in pixels: padding inside each plot (left, right, top, bottom) and the space between plots.
_PAD_L, _PAD_R, _PAD_T, _PAD_B, _GAP_PX = 44, 8, 18, 18, 14


@dataclass(frozen=True)
class _SvgPlot:
    """One plot of the SVG: its frame in pixels and the value range its y axis shows (log10 of it in log scale)."""

    left: float
    right: float
    top: int
    bottom: int
    lo: float
    hi: float
    log: bool
    max_epoch: float

    def x(self, epoch: float) -> float:
        return self.left + (self.right - self.left) * ((epoch - 1.0) / max(1.0, self.max_epoch - 1.0))

    def y(self, value: float) -> float:
        v = math.log10(value) if self.log else value
        return self.bottom - (self.bottom - self.top) * (v - self.lo) / (self.hi - self.lo)

    @property
    def shows_zero(self) -> bool:
        return self.lo < 0 < self.hi


def svg(
    runs: Sequence[Run],
    *,
    metric: str | None = None,
    current: Run | None = None,
    highlight: Run | None = None,
    marks: Sequence[Mark] = (),
    width: int = 720,
    height: int = 170,
) -> str:
    """An inline SVG of the runs' curves (cheap enough to redraw every epoch of a live fit).

    Args:
        runs: Runs to draw (those without an epoch are left out); their colours follow :data:`PALETTE` in the
            order of the runs drawn (:func:`drawn`).
        metric: The metric read as "accuracy" (default: resolved per run).
        current: The run being trained: drawn in its colour over the others, which are faded. Default: every
            run in its own colour.
        highlight: The run whose gap is shaded when no run is ``current`` (default: the last run).
        marks: Epochs to mark in every plot (:mod:`.marks`): a dotted vertical line numbered 1, 2... at the top,
            its sentence as a tooltip.
        width, height: Size in pixels (default 720 x 170); the picture scales down to a narrower output.

    Returns:
        An ``<svg>`` element as a string; every label in it is XML-escaped.
    """
    runs = drawn(runs)
    if not runs:
        return ""
    all_curves = [curves(r, metric=metric) for r in runs]
    focus_run = current if current in runs else highlight if highlight in runs else runs[-1]
    focus = all_curves[runs.index(focus_run)]
    panels = _panels(focus)
    pw = (width - _GAP_PX * (len(panels) - 1)) / len(panels)
    max_epoch = max(float(c.epochs[-1]) for c in all_curves if len(c.epochs))
    parts = [
        f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'class="stallmagic-svg" style="font:10px sans-serif;max-width:100%;height:auto">'
    ]
    for p, (kind, title) in enumerate(panels):
        x0 = p * (pw + _GAP_PX)
        plot = _svg_plot(all_curves, kind, left=x0 + _PAD_L, right=x0 + pw - _PAD_R, height=height, max_epoch=max_epoch)
        parts += _svg_frame(plot, kind, title, height)
        for i, c in enumerate(all_curves):
            in_colour = c is focus or current is None
            colour = colour_of(i) if in_colour else FADED
            parts += _svg_lines(plot, c, kind, colour, focus=c is focus, marked=in_colour)
        parts += _svg_marks(plot, marks)
    parts.append("</svg>")
    return "".join(parts)


def drawn(runs: Sequence[Run]) -> list[Run]:
    """The runs a picture draws, in the order of their colours: those with at least one epoch, and beyond the
    :data:`PALETTE`'s size the first (the baseline) and the latest ones, so no two runs share a colour."""
    shown = [r for r in runs if r.epochs]
    if len(shown) > len(PALETTE):
        shown = [shown[0], *shown[-(len(PALETTE) - 1) :]]
    return shown


def colour_of(i: int) -> str:
    """The colour of the ``i``-th run drawn (:data:`PALETTE`, repeated)."""
    return PALETTE[i % len(PALETTE)]


def _svg_plot(
    all_curves: list[Curves], kind: str, *, left: float, right: float, height: int, max_epoch: float
) -> _SvgPlot:
    """The frame and y range of one plot: every run's finite values (positive ones in log scale), the gap's range
    always holding zero, 5 % of margin above and below."""
    values = [v for c in all_curves for v, _ in _series_for(c, kind) if v is not None]
    log = kind == "loss" and _log_scale(values)
    finite = [v[np.isfinite(v) & ((v > 0) if log else True)] for v in values]
    finite = [f for f in finite if len(f)]
    lo = min(float(f.min()) for f in finite) if finite else 0.0
    hi = max(float(f.max()) for f in finite) if finite else 1.0
    if kind == "gap":
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    if log:
        lo, hi = math.log10(lo), math.log10(hi)
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    span = hi - lo
    return _SvgPlot(left, right, _PAD_T, height - _PAD_B, lo - 0.05 * span, hi + 0.05 * span, log, max_epoch)


def _svg_frame(plot: _SvgPlot, kind: str, title: str, height: int) -> list[str]:
    """A plot's border, its (escaped) title, the y range and epoch range at the corners, the gap's zero line; all in
    the page's text colour (``currentColor``), the secondary parts at a lower opacity, so a dark theme reads them."""
    left, right, top, bottom = plot.left, plot.right, plot.top, plot.bottom
    hi_label, lo_label = (10**plot.hi, 10**plot.lo) if plot.log else (plot.hi, plot.lo)
    muted = 'fill="currentColor" fill-opacity="0.7"'
    parts = [
        f'<rect x="{left:.1f}" y="{top}" width="{right - left:.1f}" height="{bottom - top}" '
        'fill="none" stroke="currentColor" stroke-opacity="0.3"/>',
        f'<text x="{left:.1f}" y="12" fill="currentColor">{escape(title)}</text>',
        f'<text x="{left - 3:.1f}" y="{top + 8}" text-anchor="end" {muted}>{hi_label:.3g}</text>',
        f'<text x="{left - 3:.1f}" y="{bottom}" text-anchor="end" {muted}>{lo_label:.3g}</text>',
        f'<text x="{right:.1f}" y="{height - 4}" text-anchor="end" {muted}>{plot.max_epoch:.0f}</text>',
        f'<text x="{left:.1f}" y="{height - 4}" {muted}>epoch 1</text>',
    ]
    if kind == "gap" and plot.shows_zero:
        y0 = plot.y(0.0)
        parts.append(
            f'<line x1="{left:.1f}" x2="{right:.1f}" y1="{y0:.1f}" y2="{y0:.1f}" stroke="currentColor" '
            'stroke-opacity="0.5"/>'
        )
    return parts


def _svg_lines(plot: _SvgPlot, c: Curves, kind: str, colour: str, *, focus: bool, marked: bool) -> list[str]:
    """One run's curves in one plot: training dashed, validation solid; the focused run's gap shaded; ``marked``
    puts a dot on the latest value (which also makes a one-epoch curve visible)."""
    parts = []
    for v, is_val in _series_for(c, kind):
        x, y = _finite_xy(c.epochs, v)
        if plot.log:
            keep = y > 0
            x, y = x[keep], y[keep]
        if not len(x):
            continue
        pts = " ".join(f"{plot.x(a):.1f},{plot.y(b):.1f}" for a, b in zip(x.tolist(), y.tolist()))
        if kind == "gap" and focus:
            y0 = plot.y(0.0) if plot.shows_zero else (plot.bottom if plot.lo >= 0 else plot.top)
            poly = f"{plot.x(x[0]):.1f},{y0:.1f} {pts} {plot.x(x[-1]):.1f},{y0:.1f}"
            parts.append(f'<polygon points="{poly}" fill="{colour}" fill-opacity="0.18" stroke="none"/>')
        dash = "" if is_val else ' stroke-dasharray="4 3"'
        if marked:
            fill = colour if is_val else "none"
            parts.append(
                f'<circle cx="{plot.x(x[-1]):.1f}" cy="{plot.y(y[-1]):.1f}" r="2.5" fill="{fill}" stroke="{colour}"/>'
            )
        parts.append(
            f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="1.6"{dash}>'
            f"<title>{escape(c.label)}: {'validation' if is_val else 'train'}</title></polyline>"
        )
    return parts


def _svg_marks(plot: _SvgPlot, marks: Sequence[Mark]) -> list[str]:
    """Each mark as a dotted vertical line through the plot, numbered at its top, its sentence as a tooltip."""
    parts = []
    for n, mark in enumerate(marks, 1):
        if not 1.0 <= mark.epoch <= plot.max_epoch:
            continue
        x = plot.x(mark.epoch)
        parts.append(
            f'<g class="stallmagic-mark"><title>{escape(mark.sentence())}</title>'
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{plot.top}" y2="{plot.bottom}" stroke="currentColor" '
            'stroke-opacity="0.55" stroke-dasharray="2 2"/>'
            f'<text x="{x + 2:.1f}" y="{plot.top + 9}" font-size="9" fill="currentColor">{n}</text></g>'
        )
    return parts


# ---------------------------------------------------------------------------------------------------- matplotlib


def mpl_text(text: str) -> str:
    """``text`` as matplotlib shows it literally: ``$`` not read as mathtext, a leading ``_`` kept in legends."""
    out = str(text).replace("$", r"\$")
    return "\u200b" + out if out.startswith("_") else out


def _shorten(text: str, limit: int = 22) -> str:
    """A legend label that fits beside the plots; the runs table has the full one."""
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def figure(
    runs: Sequence[Run],
    *,
    metric: str | None = None,
    highlight: Run | None = None,
    width: float = 10.0,
    height: float = 3.0,
) -> Figure:
    """A matplotlib Figure of the runs: loss, the chosen metric and the gap, training dashed, validation solid.

    Args:
        runs: Runs to overlay (baseline first); each gets a colour from :data:`PALETTE`.
        metric: The metric read as "accuracy" (default: the first accuracy-like metric, else the loss).
        highlight: The run whose gap is shaded (default: the last run).
        width, height: Figure size in inches (default 10 x 3).

    Returns:
        A ``matplotlib.figure.Figure`` not attached to pyplot (no global state; safe in threads and callbacks).
    """
    from matplotlib.figure import Figure

    runs = drawn(runs)
    fig = Figure(figsize=(width, height))
    if not runs:
        ax = fig.subplots()
        ax.axis("off")
        ax.text(0.5, 0.5, "no epochs recorded", ha="center", va="center")
        return fig
    all_curves = [curves(r, metric=metric) for r in runs]
    focus_run = highlight if highlight in runs else runs[-1]
    focus = all_curves[runs.index(focus_run)]
    panels = _panels(focus)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (kind, title) in zip(axes, panels):
        _draw_plot(ax, kind, title, all_curves, focus)
    # Fixed margins instead of a layout engine: constrained layout made every PNG about ten times slower.
    fig.subplots_adjust(left=0.06, right=0.8, bottom=0.16, top=0.83, wspace=0.28)
    fig.legend(handles=_legend(all_curves), loc="upper left", bbox_to_anchor=(0.81, 0.86), fontsize=8, frameon=False)
    return fig


def _draw_plot(ax: Any, kind: str, title: str, all_curves: list[Curves], focus: Curves) -> None:
    """One plot of the figure: axes (log scale for a loss spanning decades), every run's curves, and for the gap
    the zero line, the focused run's shaded gap and its state in the title."""
    ax.set_title(mpl_text(title), fontsize=10)
    ax.set_xlabel("epoch", fontsize=9)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.25)
    values = [v for c in all_curves for v, _ in _series_for(c, kind)]
    ax.locator_params(axis="x", nbins=5, integer=True)
    if kind == "loss" and _log_scale(values):
        ax.set_yscale("log")
        ax.minorticks_off()  # each minor tick is an artist to draw: a third of the figure's time
    else:
        ax.locator_params(axis="y", nbins=6)
    if kind == "gap":
        ax.axhline(0.0, color="#999", linewidth=0.8)
    for i, c in enumerate(all_curves):
        colour = colour_of(i)
        for v, is_val in _series_for(c, kind):
            x, y = _finite_xy(c.epochs, v)
            if not len(x):
                continue
            ax.plot(x, y, color=colour, linestyle="-" if is_val else "--", linewidth=1.6 if is_val else 1.2)
            if kind == "gap" and c is focus:
                ax.fill_between(x, 0.0, y, color=colour, alpha=0.18, linewidth=0)
    if kind == "gap":
        state = gap_state(focus)
        if state is not None:
            now = f"now {state.value:+.3g}" + (f", {state.direction}" if state.direction else "")
            ax.set_title(mpl_text(title) + "\n" + now, fontsize=10)


def _legend(all_curves: list[Curves]) -> list:
    """The legend's entries: one colour per run (labels shortened), then the line styles of train and validation."""
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color=colour_of(i), label=mpl_text(_shorten(c.label)))
        for i, c in enumerate(all_curves)
    ]
    handles += [
        Line2D([], [], color="#555", linestyle="--", label="train"),
        Line2D([], [], color="#555", linestyle="-", label="validation"),
    ]
    return handles


def png(fig: Figure, *, dpi: int = 90) -> bytes:
    """The figure as PNG bytes (Agg renderer, no pyplot)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def figure_png(runs: Sequence[Run], **kwargs: Any) -> bytes:
    """:func:`figure` rendered to PNG (keyword arguments as for :func:`figure`)."""
    return png(figure(runs, **kwargs))
