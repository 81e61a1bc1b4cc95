"""When the live view may redraw: a budget that keeps its cost a small share of the fit's wall time.

Kept apart from the widgets so the policy can be tested (and benchmarked) on a virtual clock.
"""

from __future__ import annotations

import math
import time


class Throttle:
    """Decides when the live view may redraw, so that its cost stays a small share of the fit's time.

    A redraw is due when at least ``min_interval`` seconds passed since the last one and the time spent so far
    plus the expected cost of one more redraw (the average of the last ones) stays within ``share`` of the time
    elapsed since the fit began. Short fits therefore redraw less often; long epochs redraw every epoch.

    Args:
        share: The fraction of the fit's wall time the live view may use (default 0.01: half of the 2 % budget,
            the rest left for the recorder and the kernel's messaging).
        min_interval: Seconds between two redraws at least (default 0.2: no more than 5 per second).
    """

    def __init__(self, *, share: float = 0.01, min_interval: float = 0.2) -> None:
        self.share = share
        self.min_interval = min_interval
        self.start(time.perf_counter())

    def start(self, now: float) -> None:
        """A new fit began at ``now``."""
        self.t0 = now
        self.spent = 0.0
        self.last = -math.inf
        self.cost = 0.0
        self.draws = 0

    def due(self, now: float) -> bool:
        return now - self.last >= self.min_interval and self.spent + self.cost <= self.share * (now - self.t0)

    def drew(self, now: float, seconds: float) -> None:
        """A redraw started at ``now`` took ``seconds``."""
        self.last = now
        self.cost = seconds if not self.draws else 0.5 * (self.cost + seconds)
        self.draws += 1

    def spend(self, seconds: float) -> None:
        """Time spent in the panel's listener (redraws and bookkeeping)."""
        self.spent += seconds
