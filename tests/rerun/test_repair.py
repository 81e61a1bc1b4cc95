"""Find a fix: ``run.repair()`` tries remedies as fair reruns, keeps and stacks the ones that help, and stops at
the cheap baseline or its budget (real fits on breast_cancer, a few seconds each)."""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest

import stallmagic


@pytest.fixture()
def two_faults(seed):
    """Raw (unscaled) breast_cancer features *and* a softmax on the single output unit (a constant 1)."""
    from sklearn.datasets import load_breast_cancer

    x, y = load_breast_cancer(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(y))
    x, y = x[order].astype("float32"), y[order]
    L = keras.layers
    model = keras.Sequential(
        [keras.Input((30,)), L.Dense(16), L.Activation("relu"), L.Dense(1), L.Activation("softmax")]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras warns about the softmax on one unit: the fault under test
        with stallmagic.capture() as session:
            model.fit(x, y, validation_split=0.25, epochs=15, batch_size=32, verbose=0)
    return session.runs[-1]


def test_repair_stacks_two_fixes_until_the_baseline_is_reached(two_faults):
    run = two_faults
    seen = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run.repair(budget=6, on_attempt=lambda attempt, so_far: seen.append(attempt.remedy.code))
    assert result.reached and result.stopped == "reached the baseline"
    assert {r.code for r in result.chain} == {"fix_loss", "normalize_inputs"}
    assert result.best_score >= result.target - 0.03 > result.start_score + 0.2
    assert seen == [a.remedy.code for a in result.attempts] and len(seen) <= 6
    assert all(a.run in run.session.runs for a in result.attempts)  # every rerun stays comparable
    chain, r = [], result.best
    while r.parent is not None:  # the best run's own chain is what "Keep this fix" writes, in one step
        chain.append(r.remedy)
        r = r.parent
    assert r is run and list(reversed(chain)) == result.chain
    assert "Fix the loss" in str(result) and "Normalize the inputs" in str(result)


def test_repair_stops_at_its_budget_and_says_so(two_faults):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = two_faults.repair(budget=1)
    assert result.stopped == "budget spent" and len(result.attempts) == 1 and not result.reached
    with pytest.raises(ValueError, match="budget"):
        two_faults.repair(budget=0)
