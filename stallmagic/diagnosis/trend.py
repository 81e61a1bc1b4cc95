"""Statistics of one training curve, with thresholds relative to the curve's own epoch-to-epoch noise.

A change only counts when it stands out of the run's own jitter: a validation accuracy that wanders by 0.01
from epoch to epoch has not "plateaued" because it moved 0.005, and has not "improved" either. The noise is
estimated from second differences, which a smooth trend barely moves: for white noise of standard deviation
sigma, ``x[t+1] - 2 x[t] + x[t-1]`` has standard deviation ``sqrt(6) sigma``, so
``sigma = 1.4826 * MAD(second differences) / sqrt(6)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: A slope counts as real when its t statistic (slope / standard error) is at least this.
T_SIGNIFICANT = 2.0


def robust_noise(values: np.ndarray) -> float:
    """Epoch-to-epoch noise (standard deviation) of a curve; ``nan`` with fewer than 4 finite points."""
    v = values[np.isfinite(values)]
    if len(v) < 4:
        return math.nan
    d2 = np.diff(v, n=2)
    mad = float(np.median(np.abs(d2 - np.median(d2))))
    return 1.4826 * mad / math.sqrt(6.0)


def end_window(n: int) -> int:
    """How many final epochs describe "the end" of an ``n``-epoch curve: a third, between 3 and 10."""
    return int(min(10, max(3, math.ceil(n / 3)))) if n >= 3 else n


@dataclass(frozen=True)
class Trend:
    """Least-squares line over the last ``window`` epochs: slope per epoch and its t statistic."""

    window: int
    slope: float
    t: float

    @property
    def significant(self) -> bool:
        return math.isfinite(self.t) and abs(self.t) >= T_SIGNIFICANT


def fit_trend(values: np.ndarray, window: int, noise: float) -> Trend:
    """Slope of the last ``window`` finite values; the standard error uses the larger of the fit residuals and
    the curve's own ``noise`` so a short, lucky-straight window does not look significant."""
    v = values[np.isfinite(values)][-window:]
    if len(v) < 3:
        return Trend(len(v), math.nan, math.nan)
    t = np.arange(len(v), dtype=float)
    tc = t - t.mean()
    slope = float(np.dot(tc, v - v.mean()) / np.dot(tc, tc))
    resid = v - (v.mean() + slope * tc)
    sigma = float(np.sqrt(np.sum(resid**2) / max(1, len(v) - 2)))
    if math.isfinite(noise):
        sigma = max(sigma, noise)
    sigma = max(sigma, 1e-12 * max(1.0, float(np.max(np.abs(v)))))
    se = sigma / math.sqrt(float(np.dot(tc, tc)))
    return Trend(len(v), slope, slope / se)


@dataclass(frozen=True)
class Curve:
    """One metric's curve and what stands out of its noise.

    Attributes:
        key: The log key (``val_loss``).
        values: Per-epoch values (``nan`` where not logged).
        higher_is_better: True for accuracy-like metrics, False for losses.
        noise: Epoch-to-epoch noise (see module docstring).
        trend: The end-of-training trend.
    """

    key: str
    values: np.ndarray
    higher_is_better: bool
    noise: float
    trend: Trend

    @classmethod
    def of(cls, key: str, values: list[float] | np.ndarray, *, higher_is_better: bool) -> Curve:
        arr = np.asarray(values, dtype=float)
        noise = robust_noise(arr)
        return cls(key, arr, higher_is_better, noise, fit_trend(arr, end_window(int(np.isfinite(arr).sum())), noise))

    # -------------------------------------------------------------- positions

    @property
    def finite(self) -> np.ndarray:
        return self.values[np.isfinite(self.values)]

    @property
    def n(self) -> int:
        return len(self.finite)

    @property
    def first(self) -> float:
        f = self.finite
        return float(f[0]) if len(f) else math.nan

    @property
    def last(self) -> float:
        f = self.finite
        return float(f[-1]) if len(f) else math.nan

    @property
    def best_index(self) -> int | None:
        """Epoch index (0-based, into ``values``) of the best value."""
        if not np.isfinite(self.values).any():
            return None
        masked = np.where(np.isfinite(self.values), self.values, -np.inf if self.higher_is_better else np.inf)
        return int(np.argmax(masked) if self.higher_is_better else np.argmin(masked))

    @property
    def best(self) -> float:
        i = self.best_index
        return float(self.values[i]) if i is not None else math.nan

    @property
    def first_nonfinite(self) -> int | None:
        """Index of the first NaN or infinite value (for a training loss: where it diverged), or ``None``."""
        bad = np.flatnonzero(~np.isfinite(self.values))
        return int(bad[0]) if len(bad) else None

    @property
    def span(self) -> float:
        """Range of the finite values (0 if fewer than 2)."""
        f = self.finite
        return float(f.max() - f.min()) if len(f) > 1 else 0.0

    # -------------------------------------------------------------- shapes

    def improving(self) -> bool:
        """Still improving at the end, beyond noise."""
        tr = self.trend
        return tr.significant and (tr.slope > 0) == self.higher_is_better

    def worsening(self) -> bool:
        """Getting worse at the end, beyond noise."""
        tr = self.trend
        return tr.significant and (tr.slope > 0) != self.higher_is_better

    def plateaued(self) -> bool:
        """No real trend at the end (enough epochs to tell)."""
        return self.n >= 4 and not self.trend.significant

    def regress_from_best(self) -> float:
        """How far the last value fell back from the best one, in the metric's units (>= 0)."""
        if self.n == 0:
            return math.nan
        return abs(self.last - self.best)

    def regress_in_noise(self) -> float:
        """:meth:`regress_from_best` in units of noise (``inf`` when noise is zero, ``nan`` when unknown)."""
        r = self.regress_from_best()
        if not math.isfinite(self.noise):
            return math.nan
        return r / self.noise if self.noise > 0 else (math.inf if r > 0 else 0.0)

    def direction_changes(self) -> float:
        """Share of consecutive steps that reverse direction (0 smooth, about 0.67 white noise, 1 zig-zag)."""
        d = np.diff(self.finite)
        d = d[d != 0]
        if len(d) < 3:
            return 0.0
        return float(np.mean(np.sign(d[1:]) != np.sign(d[:-1])))

    def relative_change(self) -> float:
        """(last - first) / |first|: how much the curve moved over training."""
        if self.n < 2 or self.first == 0:
            return math.nan
        return (self.last - self.first) / abs(self.first)
