"""stallmagic uses only the public ``keras`` API, so it records and diagnoses fits on the JAX backend too, gradient
and dead-ReLU probe included (its figures are compared with TensorFlow's in ``tests/diagnosis/test_probe_backends.py``).

Keras picks its backend once per process, so the JAX run happens in a subprocess, with TensorFlow made unimportable
there (as if it were not installed): capture, diagnosis and the probe need no TensorFlow on JAX.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent(
    """
    import sys

    class NoTensorFlow:  # as if TensorFlow were not installed: nothing on the JAX path may need it
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] == "tensorflow":
                raise ModuleNotFoundError(f"No module named {name!r}")

    sys.meta_path.insert(0, NoTensorFlow())
    import json, keras, numpy as np, stallmagic
    from stallmagic.diagnosis.measure import measure
    from sklearn.datasets import load_digits
    x, y = load_digits(return_X_y=True)
    x = (x / 16).astype("float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.layers.Dense(32, activation="relu"), keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    original = keras.Model.fit
    with stallmagic.capture() as session:
        history = model.fit(x, y, validation_split=0.2, epochs=3, batch_size=64, verbose=0)
    run = session.runs[0]
    report = run.diagnose()
    probe = measure(run).gradients
    print(json.dumps({
        "backend": keras.backend.backend(),
        "tensorflow_loaded": sorted(name for name in sys.modules if name.split(".")[0] == "tensorflow"),
        "restored": keras.Model.fit is original,
        "same_logs": run.logs == {k: [float(v) for v in vs] for k, vs in history.history.items()},
        "initial_weights": len(run.initial_weights or []),
        "end": run.end,
        "lr": run.learning_rates,
        "output": run.model.output_activation,
        "notes": report.notes,
        "summary_epochs": report.summary["epochs_done"],
        "probe_layers": probe.layers,
        "probe_moments": sorted(probe.loss),
    }))
    """
)


def test_capture_and_diagnosis_on_the_jax_backend():
    import jax  # noqa: F401  (in the test extra: a missing install must fail, not skip)
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3",
           "OMP_NUM_THREADS": "1"}  # scikit-learn's probes in one thread: on 2 shared cores more threads only spin
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["backend"] == "jax" and result["restored"] and result["same_logs"]
    assert result["tensorflow_loaded"] == []
    assert result["initial_weights"] == 4 and result["end"] == "completed"
    assert result["lr"] == pytest.approx([0.001] * 3) and result["output"] == "softmax"
    assert result["summary_epochs"] == 3
    assert not any("not measured" in note for note in result["notes"]), result["notes"]  # the probe runs on JAX
    assert result["probe_layers"] == ["dense", "dense_1"] and result["probe_moments"] == ["end", "start"]
