"""The gradient and dead-ReLU probe gives the same figures on every backend, and finds a known fault on JAX.

Keras picks its backend once per process, so each backend runs in a subprocess. The same small MLP gets the same
weights (drawn with NumPy, set before the fit) and the same batch on TensorFlow and JAX, so the probe's figures at
the starting weights (loss, each layer's gradient and kernel norms, each ReLU layer's dead share) must agree; the
ones at the end of the fit depend on each backend's training and are not compared. The torch backend is compared too
where torch is installed (``make test-torch``); without it that case is skipped.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: float32 arithmetic in a different order (XLA vs TensorFlow's kernels): figures agree to a few ulps, 1e-5 relative
#: measured; the tolerance leaves room for other CPUs.
RTOL = 1e-4

FIGURES = """
import json, keras, numpy as np
from sklearn.datasets import load_digits
import stallmagic
from stallmagic.diagnosis.measure import measure
x, y = load_digits(return_X_y=True)
x, y = (x[:400] / 16).astype("float32"), y[:400]
model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(16, activation="relu", kernel_regularizer="l2"),
                          keras.layers.Dense(16, activation="relu"), keras.layers.Dense(10, activation="softmax")])
rng = np.random.default_rng(0)
# negative biases kill some ReLU units: the dead shares are not all zero
model.set_weights([rng.normal(0, 0.3, w.shape).astype("float32") - (0.2 if w.ndim == 1 else 0.0)
                   for w in model.get_weights()])
model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
with stallmagic.capture() as session:
    model.fit(x, y, epochs=1, batch_size=100, shuffle=False, verbose=0)
m = measure(session.runs[0])
g = m.gradients
print(json.dumps({"notes": m.notes, "layers": g.layers, "rows": g.batch_rows, "moments": sorted(g.loss),
                  "loss": g.loss["start"], "grad": g.grad_norms["start"], "weight": g.weight_norms["start"],
                  "dead": g.dead_relu["start"], "moved": g.weight_change}))
"""

DYING_RELU = """
import json, sys
sys.path.insert(0, {tests!r})
import scenarios
run = scenarios.train("dying_relu")
report = run.diagnose()
print(json.dumps({{"findings": [f.code for f in report.findings], "notes": report.notes,
                  "dead": report.findings[0].evidence}}, default=str))
"""


def _start(backend: str, code: str, python: str = sys.executable) -> subprocess.Popen:
    env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3",
           "OMP_NUM_THREADS": "1"}  # two processes at once on two cores: scikit-learn's threads would only spin
    return subprocess.Popen([python, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _read(proc: subprocess.Popen) -> dict:
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def _assert_same_figures(other: dict, reference: dict) -> None:
    assert other["notes"] == [] and reference["notes"] == []
    assert other["layers"] == reference["layers"] == ["dense", "dense_1", "dense_2"]
    assert other["rows"] == reference["rows"] == 256 and other["moments"] == reference["moments"] == ["end", "start"]
    assert other["loss"] == pytest.approx(reference["loss"], rel=RTOL)
    assert other["grad"] == pytest.approx(reference["grad"], rel=RTOL)
    assert other["weight"] == pytest.approx(reference["weight"], rel=RTOL)
    assert other["dead"] == reference["dead"] and 0 < max(reference["dead"].values()) < 1
    assert len(other["moved"]) == 3 and all(change > 0 for change in other["moved"])


def test_the_probe_gives_the_same_figures_on_jax_as_on_tensorflow():
    import jax  # noqa: F401  (in the test extra: a missing install must fail, not skip)

    procs = {backend: _start(backend, FIGURES) for backend in ("tensorflow", "jax")}
    _assert_same_figures(_read(procs["jax"]), _read(procs["tensorflow"]))


def test_the_probe_gives_the_same_figures_on_torch_as_on_tensorflow():
    if importlib.util.find_spec("torch") is None:
        pytest.skip("torch is not installed here: `make test-torch` runs this in its own environment")
    procs = {backend: _start(backend, FIGURES) for backend in ("tensorflow", "torch")}
    _assert_same_figures(_read(procs["torch"]), _read(procs["tensorflow"]))


def test_dead_relus_are_found_first_on_jax():
    result = _read(_start("jax", DYING_RELU.format(tests=str(ROOT / "tests"))))
    assert not any("not measured" in note for note in result["notes"]), result["notes"]
    assert result["findings"][0] == "dying_relu", result["findings"]
