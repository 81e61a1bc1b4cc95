"""The rules on hand-made histories and arrays: edge cases, without TensorFlow.

Each test builds a Run from plain numbers (the capture engine's record types) and, where data matter, a
Measurements of numpy arrays; nothing here trains a model or needs Keras.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from stallmagic.diagnosis import ArraySample, GradientProbe, Measurements, diagnose, resolve_metric
from stallmagic.diagnosis.ranking import rank
from stallmagic.diagnosis.report import Finding
from stallmagic.diagnosis.trend import Curve, robust_noise
from stallmagic.record import FitRecord, LayerRecord, LossRecord, ModelRecord, Run


def make_run(
    logs: dict,
    *,
    loss: str = "sparse_categorical_crossentropy",
    from_logits: bool = False,
    activation: str = "softmax",
    units: int = 10,
    optimizer: str = "Adam",
    lr: float = 1e-3,
    momentum: float | None = None,
    n_train: int = 1000,
    batch_size: int = 32,
    validation: str = "split",
    layers: list[LayerRecord] | None = None,
) -> Run:
    n_epochs = len(next(iter(logs.values())))
    layers = layers or [
        LayerRecord(name="dense", class_name="Dense", units=64, activation="relu", params=4160),
        LayerRecord(name="out", class_name="Dense", units=units, activation=activation, params=650),
    ]
    config = {"learning_rate": lr}
    if momentum is not None:
        config["momentum"] = momentum
    model = ModelRecord(
        name="m", class_name="Sequential", style="sequential", layers=layers, params=4810, trainable_params=4810,
        output_activation=activation, output_units=units, loss=LossRecord(loss, from_logits),
        optimizer={"class_name": optimizer, "config": config},
    )  # fmt: skip
    fit = FitRecord(
        batch_size=batch_size,
        steps_per_epoch=math.ceil(n_train / batch_size),
        epochs=n_epochs,
        validation=validation,
        n_train=n_train,
        n_val=n_train // 4,
    )
    return Run(
        index=0,
        label="synthetic",
        fit=fit,
        model=model,
        logs={k: list(map(float, v)) for k, v in logs.items()},
        epochs=list(range(n_epochs)),
        learning_rates=[lr] * n_epochs,
        end="completed",
    )


def smooth(start, end, n, noise=0.0, seed=0):
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, n)
    return start + (end - start) * (1 - np.exp(-4 * t)) / (1 - np.exp(-4)) + rng.normal(0, noise, n)


# ---------------------------------------------------------------------- the core is pure


def test_diagnosis_imports_and_runs_with_keras_blocked():
    code = textwrap.dedent(
        """
        import sys
        sys.modules["keras"] = None
        sys.modules["tensorflow"] = None
        sys.modules["IPython"] = None
        sys.modules["ipywidgets"] = None
        import stallmagic.diagnosis as d
        from stallmagic.record import Run
        run = Run(index=0, label="r", logs={"loss": [1.0, 0.5], "accuracy": [0.5, 0.8]}, epochs=[0, 1])
        report = d.diagnose(run)
        print(len(d.CAUSES), report.healthy)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["20", "True"]


# ---------------------------------------------------------------------- curves and metrics


def test_robust_noise_recovers_the_jitter_of_a_smooth_curve():
    rng = np.random.default_rng(0)
    values = np.linspace(0.2, 0.9, 200) ** 0.5 + rng.normal(0, 0.01, 200)
    assert robust_noise(values) == pytest.approx(0.01, rel=0.25)
    assert math.isnan(robust_noise(np.array([0.1, 0.2, 0.3])))


def test_trend_is_judged_against_the_curves_own_noise():
    flat_noisy = Curve.of("val_accuracy", smooth(0.8, 0.8, 30, noise=0.02), higher_is_better=True)
    rising = Curve.of(
        "val_accuracy", np.linspace(0.5, 0.8, 30) + np.random.default_rng(1).normal(0, 0.005, 30), higher_is_better=True
    )
    assert flat_noisy.plateaued() and not flat_noisy.improving()
    assert rising.improving() and not rising.plateaued()
    falling_loss = Curve.of("loss", np.linspace(2, 1, 20), higher_is_better=False)
    assert falling_loss.improving() and not falling_loss.worsening()


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (["loss", "acc", "val_loss", "val_acc"], ("acc", "val_acc", "accuracy")),
        (["loss", "sparse_categorical_accuracy", "val_sparse_categorical_accuracy"],
         ("sparse_categorical_accuracy", "val_sparse_categorical_accuracy", "accuracy")),
        (["loss", "auc", "val_auc"], ("auc", "val_auc", "auc")),
        (["loss", "val_loss"], ("loss", "val_loss", "loss")),
        (["loss", "mae"], ("loss", None, "loss")),
    ],
)  # fmt: skip
def test_metric_resolution_follows_what_was_logged(keys, expected):
    choice = resolve_metric({k: [0.0] for k in keys})
    assert (choice.train_key, choice.val_key, choice.kind) == expected


def test_a_requested_metric_that_was_not_logged_says_what_was():
    choice = resolve_metric({"loss": [1], "accuracy": [0.5], "val_accuracy": [0.5]}, "auc")
    assert choice.train_key == "accuracy"
    assert "'auc' was not logged" in choice.note and "Available metrics are: loss, accuracy" in choice.note
    assert resolve_metric({"loss": [1], "auc": [0.5], "val_auc": [0.6]}, "val_auc").val_key == "val_auc"


# ---------------------------------------------------------------------- edge cases do not crash


def test_single_epoch_run():
    report = diagnose(make_run({"loss": [2.0], "accuracy": [0.3], "val_loss": [1.9], "val_accuracy": [0.35]}))
    assert report.summary["epochs_done"] == 1 and report.summary["best_epoch"] == 1
    assert "epoch 1 of 1" in str(report)


def test_run_without_validation_reports_no_generalization_findings():
    logs = {"loss": smooth(2.0, 0.1, 20), "accuracy": smooth(0.3, 0.99, 20)}
    report = diagnose(make_run(logs, validation="none"))
    assert "overfitting" not in report.codes() and report.healthy
    assert "best_val" not in report.summary
    json.dumps(report.to_dict())


def test_nan_loss_from_the_first_epoch_with_a_high_learning_rate():
    logs = {"loss": [math.nan] * 3, "accuracy": [0.1] * 3, "val_loss": [math.nan] * 3, "val_accuracy": [0.1] * 3}
    report = diagnose(make_run(logs, lr=0.5))
    assert report.findings[0].code == "lr_too_high" and report.findings[0].alert
    calm = diagnose(make_run(logs, lr=1e-3))  # same curves at a usual rate: a hint, not a verdict on the LR
    lr = calm.get("lr_too_high")
    assert lr is not None and not lr.alert


def test_regression_run_is_diagnosed_on_its_loss_without_accuracy_rules():
    n = 30
    logs = {
        "loss": smooth(50.0, 2.0, n),
        "val_loss": np.r_[smooth(55.0, 4.0, 12), np.linspace(4.0, 9.0, n - 12)],
        "mae": smooth(6.0, 1.0, n),
    }
    run = make_run(logs, loss="mean_squared_error", activation="linear", units=1)
    report = diagnose(run)
    assert report.metric == "loss"
    assert report.findings[0].code == "overfitting"
    assert not any(f.code in ("class_imbalance", "underfitting", "label_noise") for f in report.findings)
    assert str(report)


# ---------------------------------------------------------------------- curve rules


def test_overfitting_from_a_u_shaped_validation_loss():
    n = 40
    logs = {
        "loss": smooth(2.0, 0.02, n, 0.005),
        "accuracy": smooth(0.4, 1.0, n, 0.003),
        "val_loss": np.r_[smooth(2.0, 0.5, 12, 0.005), np.linspace(0.5, 1.1, n - 12)],
        "val_accuracy": np.r_[smooth(0.4, 0.88, 12, 0.003), np.full(n - 12, 0.87)],
    }
    report = diagnose(make_run(logs))
    top = report.findings[0]
    assert top.code == "overfitting" and top.alert
    assert top.evidence["val_loss_min_epoch"] in (12, 13) and top.evidence["val_loss_rise"] > 0.5
    assert "no dropout or weight penalty" in top.explanation


def test_healthy_curves_raise_nothing():
    n = 25
    logs = {
        "loss": smooth(2.0, 0.15, n, 0.005),
        "accuracy": smooth(0.4, 0.96, n, 0.003),
        "val_loss": smooth(2.0, 0.2, n, 0.006),
        "val_accuracy": smooth(0.4, 0.95, n, 0.004),
    }
    assert diagnose(make_run(logs)).healthy


def test_learning_rate_too_low_needs_a_low_rate_and_a_loss_still_creeping():
    n = 15
    logs = {
        "loss": np.linspace(2.3, 1.9, n),
        "accuracy": np.linspace(0.1, 0.4, n),
        "val_loss": np.linspace(2.3, 1.95, n),
        "val_accuracy": np.linspace(0.1, 0.38, n),
    }
    assert diagnose(make_run(logs, lr=1e-5)).findings[0].code == "lr_too_low"
    assert diagnose(make_run(logs, lr=1e-3)).get("lr_too_low") is None


def test_plain_sgd_that_crawls_is_an_optimizer_finding_and_momentum_is_not():
    n = 10
    logs = {
        "loss": np.linspace(2.3, 1.2, n),
        "accuracy": np.linspace(0.1, 0.6, n),
        "val_loss": np.linspace(2.3, 1.25, n),
        "val_accuracy": np.linspace(0.1, 0.58, n),
    }
    assert diagnose(make_run(logs, optimizer="SGD", lr=0.01)).findings[0].code == "optimizer_choice"
    assert diagnose(make_run(logs, optimizer="SGD", lr=0.01, momentum=0.9)).get("optimizer_choice") is None


def test_one_update_per_epoch_is_a_batch_size_finding():
    n = 20
    logs = {
        "loss": np.linspace(2.3, 1.5, n),
        "accuracy": np.linspace(0.1, 0.5, n),
        "val_loss": np.linspace(2.3, 1.55, n),
        "val_accuracy": np.linspace(0.1, 0.48, n),
    }
    run = make_run(logs, batch_size=1000, n_train=1000)
    assert run.fit.steps_per_epoch == 1
    report = diagnose(run)
    assert report.findings[0].code == "batch_size" and report.findings[0].evidence["updates"] == n


# ---------------------------------------------------------------------- configuration rules


@pytest.mark.parametrize(
    ("kwargs", "title"),
    [
        (dict(activation="softmax", units=1, loss="binary_crossentropy"), "Softmax on a single output unit"),
        (dict(activation="sigmoid", units=1, loss="binary_crossentropy", from_logits=True),
         "Sigmoid output with from_logits=True"),
        (dict(activation="linear"), "Cross-entropy on a linear output"),
        (dict(activation="sigmoid", units=1, loss="sparse_categorical_crossentropy"),
         "Sparse categorical loss on one output unit"),
    ],
)  # fmt: skip
def test_loss_mismatch_from_the_model_record(kwargs, title):
    logs = {"loss": [0.69] * 5, "accuracy": [0.6] * 5, "val_loss": [0.69] * 5, "val_accuracy": [0.6] * 5}
    report = diagnose(make_run(logs, **kwargs))
    assert report.findings[0].code == "loss_mismatch" and report.findings[0].title == title


def test_matching_loss_and_output_raise_no_mismatch():
    logs = {"loss": smooth(2.0, 0.2, 10), "accuracy": smooth(0.3, 0.95, 10)}
    for kwargs in (
        dict(),
        dict(activation="linear", from_logits=True),
        dict(activation="sigmoid", units=1, loss="binary_crossentropy"),
    ):
        assert diagnose(make_run(logs, validation="none", **kwargs)).get("loss_mismatch") is None


def test_labels_in_the_wrong_format_for_the_loss():
    logs = {"loss": [1.0] * 4, "accuracy": [0.5] * 4}
    y = np.arange(200) % 10
    m = Measurements(train=ArraySample(x=np.random.default_rng(0).random((200, 4)), y=y, rows=np.arange(200)))
    run = make_run(logs, loss="categorical_crossentropy", validation="none")
    assert diagnose(run, m).findings[0].title == "Categorical loss on integer labels"
    m1 = Measurements(train=ArraySample(x=m.train.x, y=np.eye(10)[y], rows=np.arange(200)))
    assert diagnose(make_run(logs, validation="none"), m1).findings[0].title == "Sparse loss on one-hot labels"


# ---------------------------------------------------------------------- data rules on arrays


def _sample(x, y, rows=None, n_total=None, with_all=True):
    rows = np.arange(len(x)) if rows is None else rows
    return ArraySample(
        x=np.asarray(x, float),
        y=np.asarray(y),
        rows=rows,
        n_total=n_total or len(x),
        y_all=np.asarray(y) if with_all else None,
    )


def _blobs(n=600, k=3, d=5, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    x = rng.normal(0, 1, (n, d)) + 3 * np.eye(k, d)[y]
    return x, y


def _good_logs(n=15):
    return {
        "loss": smooth(1.1, 0.1, n, 0.003),
        "accuracy": smooth(0.5, 0.97, n, 0.002),
        "val_loss": smooth(1.1, 0.12, n, 0.003),
        "val_accuracy": smooth(0.5, 0.96, n, 0.002),
    }


def test_healthy_arrays_raise_nothing():
    x, y = _blobs()
    pred = np.eye(3)[y[450:]] * 0.9 + 0.033
    m = Measurements(train=_sample(x[:450], y[:450]), val=_sample(x[450:], y[450:]), val_pred=pred)
    report = diagnose(make_run(_good_logs(), units=3, n_train=450), m)
    assert report.healthy, str(report)


def test_nan_inputs_are_a_data_quality_finding():
    x, y = _blobs()
    x[::10, 2] = np.nan
    m = Measurements(train=_sample(x[:450], y[:450]), val=_sample(x[450:], y[450:]))
    logs = {
        "loss": [1.0, math.nan, math.nan],
        "accuracy": [0.3] * 3,
        "val_loss": [math.nan] * 3,
        "val_accuracy": [0.33] * 3,
    }
    top = diagnose(make_run(logs, units=3, n_train=450), m).findings[0]
    assert top.code == "data_quality" and top.evidence["nonfinite_inputs"] == 45 and top.evidence["features"] == [2]


def test_ordered_validation_split_with_unseen_classes():
    x, y = _blobs()
    order = np.argsort(y, kind="stable")
    x, y = x[order], y[order]
    cut = int(np.flatnonzero(y == 2)[0])  # validation_split's tail holds class 2 only
    m = Measurements(train=_sample(x[:cut], y[:cut]), val=_sample(x[cut:], y[cut:]))
    logs = {
        "loss": smooth(1.0, 0.1, 10),
        "accuracy": smooth(0.5, 0.99, 10),
        "val_loss": smooth(3, 8, 10),
        "val_accuracy": [0.0] * 10,
    }
    report = diagnose(make_run(logs, units=3, n_train=cut), m)
    top = report.findings[0]
    assert top.code == "unshuffled_validation_split" and top.evidence["classes_only_in_validation"] == [2]
    # the same data shuffled: nothing to say about the split
    p = np.random.default_rng(0).permutation(len(y))
    m2 = Measurements(train=_sample(x[p][:480], y[p][:480]), val=_sample(x[p][480:], y[p][480:]))
    assert diagnose(make_run(_good_logs(), units=3, n_train=480), m2).get("unshuffled_validation_split") is None


def test_duplicated_rows_across_splits_are_leakage():
    x, y = _blobs()
    xv = np.concatenate([x[:100], x[500:]])
    yv = np.concatenate([y[:100], y[500:]])
    m = Measurements(train=_sample(x[:500], y[:500]), val=_sample(xv, yv))
    f = diagnose(make_run(_good_logs(), units=3, n_train=500), m).get("data_leakage")
    assert f is not None and f.alert and f.evidence["shared_rows"] == 100


def test_class_imbalance_needs_the_minority_to_be_ignored():
    rng = np.random.default_rng(0)
    y = (rng.random(1000) < 0.05).astype(int)
    x = rng.normal(0, 1, (1000, 4))
    collapsed = np.zeros((250, 1)) + 0.05  # predicts the majority for every row
    logs = {
        "loss": smooth(0.5, 0.2, 10),
        "accuracy": smooth(0.9, 0.95, 10),
        "val_loss": smooth(0.5, 0.21, 10),
        "val_accuracy": [float(np.mean(y[750:] == 0))] * 10,
    }
    run = make_run(logs, activation="sigmoid", units=1, loss="binary_crossentropy", n_train=750)
    m = Measurements(train=_sample(x[:750], y[:750]), val=_sample(x[750:], y[750:]), val_pred=collapsed)
    top = diagnose(run, m).findings[0]
    assert top.code == "class_imbalance" and top.evidence["minority_recall"] == 0.0
    fine = np.where(y[750:] == 1, 0.9, 0.1)[:, None]  # the same skew, but the minority is found
    m_fine = Measurements(train=m.train, val=m.val, val_pred=fine)
    assert diagnose(run, m_fine).get("class_imbalance") is None


def test_gradient_probe_rules():
    logs = {"loss": [2.30, 2.30, 2.30, 2.30], "accuracy": [0.1] * 4, "val_loss": [2.3] * 4, "val_accuracy": [0.1] * 4}
    vanish = GradientProbe(
        layers=["d1", "d2", "d3", "d4"],
        grad_norms={"start": [1e-9, 1e-7, 1e-4, 1e-2], "end": [1e-9, 1e-7, 1e-4, 1e-2]},
        weight_norms={"start": [5.0] * 4, "end": [5.0] * 4},
    )
    assert diagnose(make_run(logs), Measurements(gradients=vanish)).findings[0].code == "vanishing_gradient"
    dead = GradientProbe(
        layers=["d1", "d2"],
        grad_norms={"start": [1, 1], "end": [0, 0.1]},
        weight_norms={"start": [5, 5], "end": [5, 5]},
        dead_relu={"start": {"d1": 0.0}, "end": {"d1": 0.9}},
    )
    top = diagnose(make_run(logs), Measurements(gradients=dead)).findings[0]
    assert top.code == "dying_relu" and "died during training" in top.explanation


# ---------------------------------------------------------------------- ranking and words


def test_root_causes_rank_above_their_symptoms():
    root = Finding("unscaled_inputs", "Inputs are not scaled", "x", {}, 0.7)
    symptom = Finding("lr_too_high", "Learning rate too high", "y", {}, 0.9)
    unrelated = Finding("label_noise", "Many labels look wrong", "z", {}, 0.8)
    ranked = rank([symptom, unrelated, root])
    assert [f.code for f in ranked] == ["label_noise", "unscaled_inputs", "lr_too_high"]
    assert ranked[2].explained_by == "unscaled_inputs" and ranked[2].confidence < root.confidence


def test_unknown_codes_are_refused_with_the_list_of_known_ones():
    with pytest.raises(ValueError, match="Known codes are: insufficient_data, class_imbalance"):
        Finding("bad_luck", "t", "e")


def test_report_words_and_serialisation_escape_user_strings():
    logs = {"loss": [0.69] * 5, "accuracy": [0.6] * 5, "val_loss": [0.69] * 5, "val_accuracy": [0.6] * 5}
    run = make_run(logs, activation="softmax", units=1, loss="binary_crossentropy")
    run.label = "<img src=x onerror=alert(1)>"
    report = diagnose(run)
    text = str(report)
    assert text.startswith("Why is validation accuracy stuck?") and "Softmax on a single output unit" in text
    assert "Evidence: loss=binary_crossentropy" in text
    assert not re.search(r"(?<!\\)<img", report.to_markdown()) and "\\<img" in report.to_markdown()
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert data["findings"][0]["code"] == "loss_mismatch" and data["healthy"] is False


def test_softmax_with_from_logits_is_only_a_hint_where_tensorflow_corrects_it():
    logs = {"loss": smooth(2.0, 0.2, 10), "accuracy": smooth(0.3, 0.95, 10)}
    run = make_run(logs, validation="none", from_logits=True)
    run.model.backend = "tensorflow"
    hint = diagnose(run).get("loss_mismatch")
    assert hint is not None and not hint.alert and "On TensorFlow" in hint.explanation
    run.model.backend = "jax"
    assert diagnose(run).get("loss_mismatch").alert


def test_no_problem_found_is_worded_honestly_for_short_or_failed_runs():
    logs = {"loss": [2.0, 1.5], "accuracy": [0.3, 0.5], "val_loss": [2.0, 1.6], "val_accuracy": [0.3, 0.45]}
    run = make_run(logs)
    run.end = "error"
    report = diagnose(run)
    assert report.healthy and "ended with an error after 2 epochs, too few to judge" in str(report)
    assert "in line with" not in str(report)
