"""The torch backend: fits are captured, diagnosed (gradient probe included) and rerun, as on JAX.

torch from the package registry comes with its CUDA libraries (about 2.9 GB to download, 5.4 GB installed; the
CPU-only wheel index is not reachable from CI), so these tests run in their own environment with ``make
test-torch``; under ``make test`` torch is not installed and they are skipped. Keras picks its backend once per
process, so each run happens in a subprocess.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("torch") is None,
    reason="torch is not installed here: `make test-torch` runs these tests in their own environment",
)

STUCK_AND_FIXED = textwrap.dedent(
    """
    import json, keras, numpy as np, stallmagic
    from sklearn.datasets import load_digits
    x, y = load_digits(return_X_y=True)
    x = (x / 16).astype("float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=5.0), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    original = keras.Model.fit
    with stallmagic.capture() as session:
        history = model.fit(x, y, validation_split=0.2, epochs=4, batch_size=64, verbose=0)
    run = session.runs[0]
    report = run.diagnose()
    fix = next(r for r in report.findings[0].remedies if r.code == "learning_rate")
    fixed = run.rerun(fix)
    print(json.dumps({
        "backend": keras.backend.backend(),
        "restored": keras.Model.fit is original,
        "same_logs": run.logs == {k: [float(v) for v in vs] for k, vs in history.history.items()},
        "initial_weights": len(run.initial_weights or []),
        "first": report.findings[0].code,
        "notes": report.notes,
        "val_acc": max(run.logs["val_accuracy"]),
        "fixed": [fixed.end, max(fixed.logs["val_accuracy"]), fixed.extras["rerun"]["same_starting_weights"]],
    }))
    """
)

DEAD_RELUS = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, {tests!r})
    import scenarios
    report = scenarios.train("dying_relu").diagnose()
    print(json.dumps({{"findings": [f.code for f in report.findings], "notes": report.notes}}))
    """
)


def _run(code: str) -> dict:
    env = {**os.environ, "KERAS_BACKEND": "torch", "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_stuck_fit_on_torch_is_captured_diagnosed_and_fixed_by_a_rerun():
    result = _run(STUCK_AND_FIXED)
    assert result["backend"] == "torch" and result["restored"] and result["same_logs"]
    assert result["initial_weights"] == 4
    assert result["first"] == "lr_too_high"
    assert not any("not measured" in note for note in result["notes"]), result["notes"]
    end, fixed_acc, same_start = result["fixed"]
    assert end == "completed" and same_start
    assert fixed_acc > result["val_acc"] + 0.3  # stuck at chance (~0.1) before, learning after


def test_dead_relus_are_found_first_on_torch():
    result = _run(DEAD_RELUS.format(tests=str(ROOT / "tests")))
    assert not any("not measured" in note for note in result["notes"]), result["notes"]
    assert result["findings"][0] == "dying_relu", result["findings"]
