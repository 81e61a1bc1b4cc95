"""The live view's redraw budget on a virtual clock: short epochs stay within it, long epochs redraw every time."""

from __future__ import annotations

from stallmagic.notebook.throttle import Throttle


def simulate(throttle: Throttle, *, epochs: int, epoch_s: float, draw_s: float, first_epoch_s: float = 1.0):
    """A fit of ``epochs`` epochs on a virtual clock: (draws, spent share of the fit)."""
    now = 0.0
    throttle.start(now)
    for i in range(epochs):
        now += first_epoch_s if i == 0 else epoch_s
        cost = 0.0001
        if throttle.due(now):
            cost += draw_s
            throttle.drew(now, draw_s)
        throttle.spend(cost)
        now += cost
    return throttle.draws, throttle.spent / now


def test_throttle_keeps_short_epochs_within_budget_and_still_updates():
    draws, share = simulate(Throttle(), epochs=400, epoch_s=0.05, draw_s=0.002)
    assert share <= 0.0125  # 1 % target, plus the bookkeeping
    assert draws >= 20  # about one redraw per 0.2-0.4 s of a 21 s fit: live, not frozen


def test_throttle_redraws_every_epoch_when_epochs_are_long():
    draws, share = simulate(Throttle(), epochs=30, epoch_s=2.0, draw_s=0.003)
    assert draws == 30 and share < 0.01


def test_throttle_backs_off_when_a_redraw_is_expensive():
    draws, share = simulate(Throttle(), epochs=100, epoch_s=0.05, draw_s=0.1)  # a 100 ms matplotlib redraw
    assert share <= 0.02 and draws <= 3
