"""``stallmagic.sweep(..., engine="ray")`` runs the grid as Ray Tune trials on a local Ray (2 CPUs, started once for
the module) and gives the same SweepResult as the in-process sweep: the same best configuration and scores, Tune's
ASHA scheduler stopping a diverging configuration early, Ctrl-C keeping the finished trials, and models that cannot
be rebuilt in another process refused before anything trains. Real Keras trainings and a real Ray; nothing mocked."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import ray
from ray.tune.schedulers import ASHAScheduler
from ray.tune.search import BasicVariantGenerator
from small_runs import captured_classifier

import stallmagic
from stallmagic.remedies import RemedyError
from stallmagic.rerun.sweep_progress import TrialEpoch

#: How far a Ray trial's score may be from the same configuration's in-process score: a trial trains in another
#: process with its own TensorFlow thread pool, so float sums may be ordered differently; 0.02 is two rows of the
#: 100 validation rows.
SCORE_TOLERANCE = 0.02
ROOT = str(Path(__file__).resolve().parents[2])


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray with 2 CPUs for the whole module (its start-up is paid once); its workers import this checkout's
    stallmagic (an installed one would need nothing)."""
    path = os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH", "")) if p)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, runtime_env={"env_vars": {"PYTHONPATH": path}})
    yield
    ray.shutdown()


@pytest.fixture()
def run(seed):
    """Three epochs of a small ReLU + softmax classifier on 400 generated rows (100 validation rows)."""
    return captured_classifier(rows=400, features=8, epochs=3, batch_size=32, hidden=8)


def epochs_by_trial(updates):
    """``{trial: [(epoch, epochs, value), ...]}`` from a sweep's ``on_epoch`` updates, in the order they came."""
    out = {}
    for u in updates:
        assert isinstance(u, TrialEpoch) and u.total == 4 and u.metric == "val_accuracy" and u.fold is None
        out.setdefault(u.trial, []).append((u.epoch, u.epochs, u.value))
    return out


def test_a_grid_on_ray_finds_the_in_process_best_with_the_same_scores(local_ray, run):
    grid = {"learning_rate": [1e-3, 1e-2, 3e-2, 1e-1]}
    here_epochs, there_epochs = [], []
    here = stallmagic.sweep(run, grid, on_epoch=here_epochs.append)
    seen = []
    there = stallmagic.sweep(
        run,
        grid,
        engine="ray",
        progress=lambda done, total, row: seen.append((done, total)),
        on_epoch=there_epochs.append,
    )
    assert there.engine == "ray" and not there.stopped and there.total == 4
    assert there.best_params == here.best_params
    assert there.best_remedy() == here.best_remedy()
    for a, b in zip(here.rows, there.rows):  # the grid's order in both
        assert a["params"] == b["params"] and a["epochs"] == b["epochs"] == [3] and b["stopped_by"] is None
        assert abs(a["mean"] - b["mean"]) <= SCORE_TOLERANCE, (a, b)
    assert [r["rank"] for r in here.rows] == [r["rank"] for r in there.rows]
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]  # the progress hook saw each trial as it ended
    # on_epoch saw every epoch of every trial as it was reported, the same on both engines: each trial's epochs in
    # order, its last value the row's score, its number the row's "trial"
    here_by, there_by = epochs_by_trial(here_epochs), epochs_by_trial(there_epochs)
    assert sorted(here_by) == sorted(there_by) == [1, 2, 3, 4] == [r["trial"] for r in there.rows]
    for row_here, row_there in zip(here.rows, there.rows):
        for by, row in ((here_by, row_here), (there_by, row_there)):
            assert [(e, n) for e, n, _ in by[row["trial"]]] == [(1, 3), (2, 3), (3, 3)]
            assert by[row["trial"]][-1][2] == pytest.approx(row["mean"])
    assert {u.trial: u.params for u in there_epochs} == {r["trial"]: r["params"] for r in there.rows}
    # each trial's Run came back: its curves and its final weights (not a live model)
    assert len(there.runs) == 4
    shapes = [w.shape for w in run.initial_weights]
    for trained in there.runs:
        assert trained.end == "completed" and len(trained.logs["val_accuracy"]) == 3 and trained.keras_model is None
        assert [w.shape for w in trained.final_weights] == shapes
        assert not all(np.array_equal(a, b) for a, b in zip(trained.final_weights, run.initial_weights))
    assert len(run.session.runs) == 1  # the user's session holds only their run
    # the weights that came back are the trial's final ones: the user's model scores with them what the trial did
    label = f"sweep learning_rate={there.best_params['learning_rate']:g}"
    best = next(r for r in there.runs if r.label == label)
    x_val, y_val = run.data.validation()
    run.keras_model.set_weights(best.final_weights)
    accuracy = run.keras_model.evaluate(x_val, y_val, verbose=0, return_dict=True)["accuracy"]
    assert abs(accuracy - best.logs["val_accuracy"][-1]) < 1e-6
    # and the best configuration is kept by rerunning it in process
    kept = run.rerun(there.best_remedy())
    assert abs(kept.logs["val_accuracy"][-1] - there.best_score) <= SCORE_TOLERANCE


def test_asha_stops_a_diverging_learning_rate_early(local_ray, seed):
    run = captured_classifier(rows=400, features=8, epochs=6, batch_size=32, hidden=8)
    # plain SGD: two rates that learn, then two whose weights blow up to NaN in the first epoch (chance accuracy)
    grid = {"optimizer": ["sgd"], "learning_rate": [0.1, 0.3, 1e3, 1e4]}
    asha = ASHAScheduler(max_t=6, grace_period=1, reduction_factor=2)
    result = stallmagic.sweep(run, grid, engine="ray", scheduler=asha)
    diverging = [row for row in result.rows if row["params"]["learning_rate"] >= 1e3]
    assert all(row["stopped_by"] == "scheduler" and row["epochs"][0] < 6 for row in diverging), result.rows
    assert result.best_params["learning_rate"] in (0.1, 0.3)
    assert "(stopped by the scheduler after " in str(result)
    assert max(row["epochs"][0] for row in result.rows) == 6  # the leader trained to the end
    stopped_runs = [r for r in result.runs if r.extras["ray"]["stopped_by"] == "scheduler"]
    assert stopped_runs and all(r.final_weights is None and r.epochs_done < 6 for r in stopped_runs)


def test_a_search_algorithm_samples_the_grid_instead_of_crossing_it_with_folds(local_ray, run):
    grid = {"learning_rate": [1e-2, 1e-1], "batch_size": [16, 64]}
    result = stallmagic.sweep(
        run, grid, cv=2, engine="ray", search_alg=BasicVariantGenerator(random_state=0), num_samples=2
    )
    assert result.total == 2 and len(result.rows) == 2 and result.cv.startswith("2-fold")
    for row in result.rows:
        assert row["params"]["learning_rate"] in grid["learning_rate"] and row["params"]["batch_size"] in (16, 64)
        assert len(row["scores"]) == 2 and row["epochs"] == [3, 3]  # each trial trained both folds
    assert sorted(r.label[-6:] for r in result.runs) == ["fold 1", "fold 1", "fold 2", "fold 2"]


def test_stall_sweep_runs_on_ray_from_the_notebook_with_asha_and_optuna_by_name(local_ray, capfd):
    """``%stall sweep --engine ray --scheduler asha --search optuna --samples 3`` in a real IPython shell: the names
    become Tune's ASHAScheduler and OptunaSearch (Tune's own Optuna integration as ``search_alg=``, given the sweep's
    metric and direction by Tune), Optuna's suggestions come back as a SweepResult like any other, and the notebook's
    live table follows the trials as Ray reports. A run recorded by ``%%diagnose_fit`` is listened to by its panel
    (widgets, the shell), which Tune's experiment snapshot tried to pickle through the sweep's driver-side hooks:
    every Ray sweep from a notebook cell failed with "cannot pickle 'sqlite3.Connection' object"."""
    from IPython.testing.globalipapp import get_ipython

    ip = get_ipython()
    ip.run_line_magic("load_ext", "stallmagic")
    magics = ip.magics_manager.registry["StallMagics"]
    before, magics.display = magics.display, "widgets"
    try:
        rng = np.random.default_rng(0)
        ip.user_ns["x_ray"] = rng.normal(size=(300, 8)).astype("float32")
        ip.user_ns["y_ray"] = (ip.user_ns["x_ray"][:, 0] > 0).astype("int64")
        cell = ip.run_cell(
            "%%diagnose_fit\nimport keras\nkeras.utils.set_random_seed(0)\n"
            "m = keras.Sequential([keras.Input((8,)), keras.layers.Dense(2, activation='softmax')])\n"
            "m.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])\n"
            "m.fit(x_ray, y_ray, validation_split=0.25, epochs=3, verbose=0)\n"
        )
        assert cell.success, cell.error_in_exec
        result = ip.run_line_magic("stall", "sweep --engine ray --scheduler asha --search optuna --samples 3")
        assert result.engine == "ray" and result.total == 3 and len(result.rows) == 3 and not result.stopped
        assert sorted(row["trial"] for row in result.rows) == [1, 2, 3]
        grid = result.grid
        for row in result.rows:  # each an Optuna suggestion from the grid's values, scored as any sweep's row
            assert row["params"]["optimizer"] in grid["optimizer"]
            assert row["params"]["learning_rate"] in grid["learning_rate"]
            assert row["mean"] is not None and row["rank"] in (1, 2, 3) and 1 <= max(row["epochs"]) <= 3
        best = max(result.rows, key=lambda r: r["mean"])
        assert result.best_params == best["params"] and result.best_score == best["mean"]
        assert result.best_remedy() is not None  # optimizer + learning rate: one remedy to rerun or keep
        assert "on Ray Tune" in str(result) and "Best: optimizer=" in str(result)
        view = magics.sweep_view
        assert view.board.engine == "ray" and sorted(view.board.trials) == [1, 2, 3] and not view.board.running()
        assert all(t["epoch"] >= 1 for t in view.board.trials.values())
        assert view.output.text.startswith("Sweep on Ray Tune: 3/3 trials done, 0 running (val_accuracy)")
        printed = capfd.readouterr()
        for chatter in ("Wrote the latest version", "A new study created"):  # Tune's and Optuna's INFO lines
            assert chatter not in printed.err + printed.out, chatter
    finally:
        magics.display = before
        ip.run_line_magic("unload_ext", "stallmagic")


def test_ctrl_c_ends_the_running_trials_and_keeps_the_finished_ones(local_ray, run):
    def interrupt(done, total, row):
        if done == 1:
            os.kill(os.getpid(), signal.SIGINT)  # what Ctrl-C (or the notebook's Interrupt) sends

    grid = {"learning_rate": [1e-3, 1e-2, 3e-2, 1e-1]}
    result = stallmagic.sweep(run, grid, engine="ray", progress=interrupt)
    assert result.stopped and 1 <= len(result.rows) < 4
    assert all(row["stopped_by"] is None and row["epochs"] == [3] for row in result.rows)
    assert "stopped after" in str(result)


def test_models_that_cannot_be_rebuilt_elsewhere_are_refused_before_training(seed):
    x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Lambda(lambda t: t * 2.0), keras.layers.Dense(2)])
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    with stallmagic.capture() as session:
        model.fit(x, y, validation_split=0.25, epochs=1, verbose=0)
    with pytest.raises(RemedyError) as caught:
        stallmagic.sweep(session.runs[-1], {"learning_rate": [1e-3]}, engine="ray")
    message = str(caught.value)
    assert "Lambda layer" in message and "engine='process'" in message and "\n" not in message
    assert len(session.runs) == 1  # nothing trained

    class Wrapped(keras.Model):  # a subclassed model whose __init__ takes a layer: Keras has no config for it
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def call(self, t):
            return self.inner(t)

    wrapped = Wrapped(keras.layers.Dense(2))
    wrapped.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    with stallmagic.capture() as session:
        wrapped.fit(x, y, validation_split=0.25, epochs=1, verbose=0)
    with pytest.raises(RemedyError, match=r"cannot rebuild the model of .* get_config .*engine='process'"):
        stallmagic.sweep(session.runs[-1], {"learning_rate": [1e-3]}, engine="ray")


def test_data_that_are_not_arrays_are_refused_before_training(seed):
    import tensorflow as tf

    x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
    with stallmagic.capture() as session:
        model.fit(data, validation_data=data, epochs=1, verbose=0)
    with pytest.raises(RemedyError, match=r"sends the data to Ray's object store as arrays, but .* reads its training "
                                          r"data from a tf\.data input; run this sweep in process"):  # fmt: skip
        stallmagic.sweep(session.runs[-1], {"learning_rate": [1e-3]}, engine="ray")
    assert len(session.runs) == 1


def test_engine_options_are_checked_in_words(run):
    with pytest.raises(RemedyError, match=r"The 'engine' argument of sweep must be 'process' or 'ray'\. Got 'spark'"):
        stallmagic.sweep(run, {"learning_rate": [1e-3]}, engine="spark")
    with pytest.raises(RemedyError, match=r"The 'scheduler' argument of sweep applies to engine='ray' only"):
        stallmagic.sweep(run, {"learning_rate": [1e-3]}, scheduler=object())
    with pytest.raises(RemedyError, match=r"'num_samples' argument of sweep must be an int >= 1\. Got 0"):
        stallmagic.sweep(run, {"learning_rate": [1e-3]}, engine="ray", num_samples=0)
    assert len(run.session.runs) == 1


def test_import_stallmagic_never_imports_ray():
    """The Ray engine is imported when a sweep asks for it: a user without Ray, or a sweep in process, pays nothing."""
    code = (
        "import sys; import stallmagic, stallmagic.rerun.sweep, stallmagic.rerun.sweep_arguments; "
        "assert 'ray' not in sys.modules, sorted(m for m in sys.modules if m.startswith('ray'))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH", "")) if p)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
