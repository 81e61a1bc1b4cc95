"""stallmagic without TensorFlow: ``import stallmagic``, ``%load_ext stallmagic``, ``%%diagnose_fit`` on a fit, the
JAX gradient probe, ``stallmagic.diagnose``, reruns, an in-process ``stallmagic.sweep`` and the exports, all on
``KERAS_BACKEND=jax`` in an environment where ``import tensorflow`` fails as it does when TensorFlow is not installed.

The run happens in a subprocess (Keras picks its backend once per process). Where TensorFlow is installed (``make
test``), a ``sys.meta_path`` finder that stands in for all the others hides ``tensorflow``, ``tensorflow_*``,
``tensorboard*`` and ``tf_keras`` as if they were not installed (``import`` raises ``ModuleNotFoundError``,
``importlib.util.find_spec`` gives ``None``, ``importlib.metadata`` knows no such distribution); where it is really
absent (``make test-jax``'s ``.venv-jax``, installed without it as the README says), the same finder only watches.
Either way the finder records who tried to import them: the one place allowed is Keras's own optional-dependency
probe (``keras.src.utils.module_utils``'s ``LazyModule``, which catches the ``ImportError``:
``keras.utils.set_random_seed`` and Keras's serialization ask it whether TensorFlow is there). An attempt from
stallmagic, or from any other library on these paths, fails the test with the file and line that made it, even one
that a ``try``/``except ImportError`` would have hidden.

The cell trains a deep stack of sigmoid layers (``tests/scenarios.py``'s ``vanishing_gradient``): a fault only the
gradient probe can see, so finding it first shows that the JAX probe ran and that its figures reached the report.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent(
    """
    import os, sys, time
    began = time.perf_counter()
    BLOCK = sys.argv[1] == "block"

    def blocked(name):
        top = name.split(".")[0]
        return top in ("tensorflow", "tf_keras") or top.startswith(("tensorflow_", "tensorboard"))

    def importer():
        # The frame that asked for the import: the first one outside importlib's machinery and this finder.
        frame = sys._getframe(2)
        while frame is not None and (frame.f_code.co_filename.startswith("<frozen")
                                     or frame.f_code.co_filename.endswith(os.path.join("importlib", "__init__.py"))):
            frame = frame.f_back
        return "?" if frame is None else f"{frame.f_code.co_filename}:{frame.f_lineno}"

    ATTEMPTS = []

    class NoTensorFlow:
        # Stands in for every finder, so that with BLOCK TensorFlow is absent exactly as when it is not installed:
        # no finder knows its modules (import raises ModuleNotFoundError, importlib.util.find_spec returns None)
        # and importlib.metadata knows no distribution of it. Without BLOCK it only records the attempts.
        def __init__(self, finders):
            self.finders = finders

        def find_spec(self, name, path=None, target=None):
            if blocked(name):
                ATTEMPTS.append([name, importer()])
                if BLOCK:
                    return None
            for finder in self.finders:
                spec = finder.find_spec(name, path, target) if hasattr(finder, "find_spec") else None
                if spec is not None:
                    return spec
            return None

        def find_distributions(self, context):
            for finder in self.finders:
                for dist in getattr(finder, "find_distributions", lambda context: ())(context):
                    if not (BLOCK and blocked((dist.metadata["Name"] or "").lower().replace("-", "_"))):
                        yield dist

        def invalidate_caches(self):
            for finder in self.finders:
                getattr(finder, "invalidate_caches", lambda: None)()

    sys.meta_path[:] = [NoTensorFlow(list(sys.meta_path))]

    import json, tempfile
    from pathlib import Path
    import stallmagic
    from stallmagic.diagnosis.measure import measure
    from IPython.testing.globalipapp import get_ipython

    ip = get_ipython()
    ip.run_line_magic("load_ext", "stallmagic")
    magics = ip.magics_manager.registry["StallMagics"]
    magics.display = "widgets"  # the panel (no kernel here: its buttons are clicked from Python)

    def run_cell(source):
        result = ip.run_cell(source)
        if not result.success:
            raise SystemExit(f"the cell failed: {result.error_in_exec or result.error_before_exec!r}")

    run_cell('''
    import keras, numpy as np
    from sklearn.datasets import load_digits
    x, y = load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(x))
    x, y = (x[order] / 16).astype("float32"), y[order]
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((64,))]
                             + [keras.layers.Dense(32, activation="sigmoid") for _ in range(10)]
                             + [keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    ''')
    run_cell('''%%diagnose_fit -o run
    history = model.fit(x, y, validation_split=0.2, epochs=8, batch_size=32, verbose=0)
    ''')
    panel, cell, run = magics.views[-1], magics.cells[-1], ip.user_ns["run"]
    report = run.report
    first = report.findings[0]
    measurements = measure(run)
    probe = measurements.gradients

    # Apply & rerun: the first fix of the first finding, as the panel's button does it.
    button = panel.rerun_buttons[(0, first.remedies[0].code)]
    button.click()
    clicked = cell.runs[-1]

    again = stallmagic.diagnose(run, measurements)  # the public entry point, on the same measurements
    direct = run.rerun(learning_rate=0.1, epochs=2)  # run.rerun with an override
    search = stallmagic.sweep(run, {"learning_rate": [0.01, 0.1], "epochs": [2]})  # in process
    ip.run_line_magic("stall", "report")
    folder = Path(tempfile.mkdtemp())
    for ext in ("html", "json", "md"):
        ip.run_line_magic("stall", f"export {folder / ('report.' + ext)}")

    attempts = list(ATTEMPTS)
    import importlib.metadata, importlib.util
    try:  # the finder's own check: TensorFlow is absent in every way an uninstalled package is
        import tensorflow  # noqa: F401
        absent = None
    except ModuleNotFoundError as exc:
        absent = [exc.name, importlib.util.find_spec("tensorflow"), importlib.util.find_spec("tensorboard")]
    try:
        absent.append(importlib.metadata.version("tensorflow"))
    except importlib.metadata.PackageNotFoundError:
        pass

    print(json.dumps({
        "absent": absent,
        "backend": ip.user_ns["keras"].backend.backend(),
        "first": first.code,
        "evidence": first.evidence,
        "probe_module": sorted(m for m in sys.modules if m.startswith("stallmagic.diagnosis.probe_")),
        "probe_notes": [note for note in report.notes if "radient" in note],
        "probe_timed": "gradient_probe" in report.timings,
        "probe_layers": None if probe is None else len(probe.layers),
        "probe_norms": None if probe is None else sorted(probe.grad_norms),
        "message": panel.message.value,
        "clicked": [clicked.parent is run, clicked.remedy.code, clicked.end, clicked.report is not None],
        "val_acc": [max(run.logs["val_accuracy"]), max(clicked.logs["val_accuracy"])],
        "again": again.findings[0].code,
        "direct": [direct.end, direct.epochs_done],
        "sweep": [len(search.rows), search.best_params],
        "exports": sorted(p.name for p in folder.iterdir() if p.stat().st_size > 0),
        "md_curves": "](data:image/png;base64," in (folder / "report.md").read_text(),  # drawn by matplotlib
        "attempts": attempts,
        "loaded": sorted(m for m in sys.modules if blocked(m)),
        "seconds": round(time.perf_counter() - began, 1),
    }))
    """
)

#: The one place allowed to try: Keras's LazyModule, which asks whether TensorFlow is installed and catches the error.
KERAS_PROBE = os.path.join("keras", "src", "utils", "module_utils.py")


def test_stallmagic_needs_no_tensorflow_on_jax():
    import jax  # noqa: F401  (in the test extra: a missing install must fail, not skip)

    installed = importlib.util.find_spec("tensorflow") is not None
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3",
           "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}  # fmt: skip
    mode = "block" if installed else "watch"
    out = subprocess.run([sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:] + out.stdout[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])

    assert result["absent"] == ["tensorflow", None, None] and result["backend"] == "jax"
    assert result["loaded"] == []
    stray = [(name, where) for name, where in result["attempts"] if not where.split(":")[0].endswith(KERAS_PROBE)]
    assert stray == [], f"imports of TensorFlow (name, importer) outside Keras's own optional probe: {stray}"

    # The fault is found first, from the JAX probe's gradient figures.
    assert result["probe_notes"] == [] and result["probe_timed"], result["probe_notes"]
    assert result["first"] == "vanishing_gradient", result
    assert result["evidence"]["first_to_last_gradient_ratio"] < 0.1, result["evidence"]
    assert result["probe_module"] == ["stallmagic.diagnosis.probe_backends", "stallmagic.diagnosis.probe_jax"]
    assert result["probe_layers"] == 11 and result["probe_norms"] == ["end", "start"]

    # Apply & rerun, a direct rerun, stallmagic.diagnose, a sweep and the three exports.
    assert result["message"] == ""
    parent, _code, end, diagnosed = result["clicked"]
    assert parent and end == "completed" and diagnosed
    before, after = result["val_acc"]
    assert after > before + 0.3, result["val_acc"]  # stuck near chance before, learning with the fix
    assert result["again"] == "vanishing_gradient"
    assert result["direct"] == ["completed", 2]
    assert result["sweep"][0] == 2 and result["sweep"][1] is not None
    assert result["exports"] == ["report.html", "report.json", "report.md"] and result["md_curves"]


def test_the_install_without_tensorflow_lists_pyprojects_dependencies():
    """The README's install without TensorFlow runs the Makefile's ``WITHOUT_TF`` line (``make test-jax`` builds
    ``.venv-jax`` with it): on the installed package's metadata it prints pyproject.toml's dependencies less
    ``tensorflow``, plus the ``jax`` extra, so the list is never copied by hand."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    line = re.search(r"^WITHOUT_TF := (.+)$", (ROOT / "Makefile").read_text(), re.MULTILINE).group(1)
    assert f"python -c '{line}'" in (ROOT / "README.md").read_text()
    out = subprocess.run([sys.executable, "-c", line], capture_output=True, text=True, check=True).stdout
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    kept = [d for d in project["dependencies"] if not d.startswith("tensorflow")]
    kept += project["optional-dependencies"]["jax"]
    assert out.splitlines() == kept, "the installed metadata is older than pyproject.toml: reinstall (make)"
    assert "keras>=3.5" in kept and "jax" in kept
