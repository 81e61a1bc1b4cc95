"""The classes of defect that real programs revealed (issue: diagnosis on real programs), on hand-made runs.

Each test states one class in general terms and checks it on numbers built here, never on a benchmark program:
outputs with positions, fits without validation, causes that had no check, ranking, and checks that misfired.
"""

from __future__ import annotations

import math

import numpy as np
from test_rules_pure import make_run, smooth

from stallmagic.diagnosis import ArraySample, GradientProbe, Measurements, diagnose
from stallmagic.diagnosis.ranking import rank
from stallmagic.diagnosis.report import Finding
from stallmagic.diagnosis.rules.label_noise import consensus, noise_floor


def _sample(x, y):
    return ArraySample(x=np.asarray(x, float), y=np.asarray(y), rows=np.arange(len(x)), n_total=len(x),
                       y_all=np.asarray(y))  # fmt: skip


def _separable(n=600, k=3, d=6, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    return rng.normal(0, 1, (n, d)) + 4 * np.eye(k, d)[y], y


# ---------------------------------------------------------------------- any output shape


def test_targets_with_positions_are_diagnosed_without_a_crash():
    rng = np.random.default_rng(0)
    x = rng.random((400, 25))
    y = (rng.random((400, 3, 3, 1)) < 0.1).astype(float)  # mostly zeros, one target per cell
    pred = np.full((100, 3, 3, 1), 0.02)  # predicts "zero" everywhere
    logs = {"loss": smooth(0.7, 0.3, 8), "accuracy": [0.9] * 8, "val_loss": smooth(0.7, 0.3, 8),
            "val_accuracy": [0.9] * 8}  # fmt: skip
    run = make_run(logs, loss="binary_crossentropy", activation="sigmoid", units=1, n_train=300)
    report = diagnose(run, Measurements(train=_sample(x[:300], y[:300]), val=_sample(x[300:], y[300:]),
                                        val_pred=pred))  # fmt: skip
    assert any("one value per position" in note for note in report.notes)
    assert 0.85 <= report.summary["chance_accuracy"] <= 0.95  # the share of zeros, not 1/2
    str(report)


# ---------------------------------------------------------------------- fits without validation


def test_a_fit_without_validation_is_judged_on_its_training_accuracy():
    x, y = _separable()
    logs = {"loss": [1.0986] * 10, "accuracy": [0.34, 0.33, 0.34, 0.33, 0.34, 0.34, 0.33, 0.34, 0.33, 0.34]}
    run = make_run(logs, validation="none", units=3, n_train=600, lr=0.5)
    report = diagnose(run, Measurements(train=_sample(x, y)))
    assert not report.healthy and report.findings[0].code in ("lr_too_high", "underfitting")
    assert report.summary["judged_on"] == "training"
    learned = {"loss": smooth(1.1, 0.05, 10), "accuracy": smooth(0.4, 0.99, 10)}
    healthy = diagnose(make_run(learned, validation="none", units=3, n_train=600), Measurements(train=_sample(x, y)))
    assert healthy.healthy and "no validation data" in healthy.summary["healthy_text"]


# ---------------------------------------------------------------------- causes that had no check


def test_unscaled_regression_targets():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 5))
    y = 3000 + 800 * x[:, 0] + 50 * rng.normal(size=500)
    flat = np.full(125, y[:375].mean())  # the network predicts the mean: R² about 0
    logs = {"loss": [9e5, 7e5, 6.5e5, 6.4e5, 6.4e5], "val_loss": [9e5, 7e5, 6.6e5, 6.5e5, 6.5e5]}
    run = make_run(logs, loss="mean_squared_error", activation="linear", units=1, n_train=375)
    m = Measurements(train=_sample(x[:375], y[:375]), val=_sample(x[375:], y[375:]), val_pred=flat)
    top = diagnose(run, m).findings[0]
    assert top.code == "unscaled_targets" and top.alert and top.evidence["baseline_r2"] > 0.9
    fitted = y[375:] + rng.normal(0, 50, 125)  # the same targets, learned: nothing to say
    assert diagnose(run, Measurements(train=m.train, val=m.val, val_pred=fitted)).get("unscaled_targets") is None


def test_targets_the_predictions_never_reached_outrank_unscaled_inputs():
    # raw inputs (scales 1 to 1000) and targets around 3 x 10^5: the inputs' finding alone would be sure of
    # itself, but while the predictions stay a fraction of the targets' size, the targets hold the run back first
    rng = np.random.default_rng(1)
    scales = 10.0 ** rng.uniform(0, 3, 6)
    z = rng.normal(size=(500, 6))
    x, y = z * scales + 2 * scales, 3e5 + 8e4 * z[:, 0] + 2e3 * rng.normal(size=500)
    logs = {"loss": smooth(1.0e11, 0.9e11, 8), "val_loss": smooth(1.0e11, 0.9e11, 8)}
    run = make_run(logs, loss="mean_squared_error", activation="linear", units=1, n_train=375)
    train, val = _sample(x[:375], y[:375]), _sample(x[375:], y[375:])
    small = 0.05 * y[375:] + rng.normal(0, 100, 125)  # correlated, but a twentieth of the targets' size
    report = diagnose(run, Measurements(train=train, val=val, val_pred=small))
    assert [f.code for f in report.findings[:2]] == ["unscaled_targets", "unscaled_inputs"], str(report)
    inputs = report.get("unscaled_inputs")
    assert inputs.confidence < 0.8 and inputs.evidence["prediction_reach"] < 0.1  # present, not what stalls it first
    assert "holds it back first" in inputs.explanation
    assert report.get("unscaled_targets").evidence["prediction_reach"] == inputs.evidence["prediction_reach"]
    # the same inputs, predictions of the targets' size that are still poor: the inputs' scale is an alert again
    sized = y[375:].mean() + rng.normal(0, 8e4, 125)
    again = diagnose(run, Measurements(train=train, val=val, val_pred=sized))
    inputs = again.get("unscaled_inputs")
    assert inputs.confidence >= 0.8 and "prediction_reach" not in inputs.evidence


def test_a_run_stopped_while_still_climbing():
    x, y = _separable()
    n = 12
    climbing = {"loss": np.linspace(1.1, 0.7, n), "accuracy": np.linspace(0.35, 0.7, n),
                "val_loss": np.linspace(1.1, 0.72, n), "val_accuracy": np.linspace(0.35, 0.68, n)}  # fmt: skip
    m = Measurements(train=_sample(x[:450], y[:450]), val=_sample(x[450:], y[450:]))
    report = diagnose(make_run(climbing, units=3, n_train=450), m)
    assert report.findings[0].code == "train_longer" and report.findings[0].alert
    converged = {k: smooth(v[0], v[-1] + (0.28 if "acc" in k else -0.6), 30, 0.002) for k, v in climbing.items()}
    assert diagnose(make_run(converged, units=3, n_train=450), m).get("train_longer") is None


def test_validation_prepared_differently_from_training():
    x, y = _separable(d=20)
    logs = {"loss": smooth(1.1, 0.05, 10), "accuracy": smooth(0.4, 0.99, 10),
            "val_loss": smooth(1.1, 2.5, 10), "val_accuracy": [0.4] * 10}  # fmt: skip
    shifted = Measurements(train=_sample(x[:450], y[:450]), val=_sample(x[450:] * 255.0, y[450:]))
    top = diagnose(make_run(logs, units=3, n_train=450), shifted).findings[0]
    assert top.code == "distribution_shift" and top.evidence["train_vs_val_auc"] > 0.9
    same = Measurements(train=_sample(x[:450], y[:450]), val=_sample(x[450:], y[450:]))
    assert diagnose(make_run(logs, units=3, n_train=450), same).get("distribution_shift") is None


# ---------------------------------------------------------------------- ranking


def test_a_definite_configuration_bug_outranks_statistical_findings_however_sure():
    bug = Finding("loss_mismatch", "Cross-entropy on a linear output", "x", {}, 0.88)
    sure = [Finding(code, code, "y", {}, 0.95) for code in ("unscaled_inputs", "label_noise", "data_leakage")]
    ranked = rank([*sure, bug])
    assert ranked[0].code == "loss_mismatch"
    assert all(f.confidence < 0.8 for f in ranked[1:])  # present, no longer "what stalls it"
    weak = Finding("loss_mismatch", "Regression loss on class labels", "x", {}, 0.5)  # a hint stays a hint
    assert rank([Finding("unscaled_inputs", "u", "y", {}, 0.95), weak])[0].code == "unscaled_inputs"


def test_a_symptom_is_a_hint_below_its_root():
    root = Finding("lr_too_high", "Learning rate too high", "x", {}, 0.95)
    symptom = Finding("dying_relu", "Dead ReLU units", "y", {}, 0.93)
    rank([root, symptom])
    assert symptom.explained_by == "lr_too_high" and not symptom.alert


def test_keras_accuracy_on_multi_hot_targets_is_not_judged():
    # metrics=["accuracy"] with several 0/1 columns is Keras's categorical accuracy: judge the loss and the
    # predictions instead
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 6))
    y = (x[:, :3] > 0).astype(float)  # three independent labels per row
    pred = np.clip(y[300:] * 0.8 + 0.1, 0, 1)  # right on every element
    logs = {"loss": smooth(0.7, 0.2, 10), "accuracy": [0.4] * 10, "val_loss": smooth(0.7, 0.22, 10),
            "val_accuracy": [0.41] * 10}  # fmt: skip
    run = make_run(logs, loss="binary_crossentropy", activation="sigmoid", units=3, n_train=300)
    report = diagnose(run, Measurements(train=_sample(x[:300], y[:300]), val=_sample(x[300:], y[300:]),
                                        val_pred=pred))  # fmt: skip
    assert report.metric == "loss" and any("categorical accuracy" in note for note in report.notes)
    assert report.healthy, str(report)


def test_label_noise_is_read_from_the_network_when_it_beats_the_probe():
    # XOR on two of twelve features: the cheap models cannot learn it, the network can. Its disagreements with the
    # labels among the validation rows it is surest about tell wrong labels (spread evenly) from a good fit
    rng = np.random.default_rng(3)
    x = rng.normal(size=(1200, 12))
    truth = (x[:, 0] * x[:, 1] > 0).astype(int)
    flipped = np.where(rng.random(1200) < 0.2, 1 - truth, truth)
    sure = np.clip(truth[900:] * 0.9 + 0.05 + rng.normal(0, 0.02, 300), 0, 1)  # the network learned the XOR
    logs = {"loss": smooth(0.7, 0.35, 12), "accuracy": smooth(0.5, 0.85, 12), "val_loss": smooth(0.7, 0.5, 12),
            "val_accuracy": smooth(0.5, 0.8, 12)}  # fmt: skip
    run = make_run(logs, loss="binary_crossentropy", activation="sigmoid", units=1, n_train=900)

    def report(y, pred, val_accuracy=None):
        r = run if val_accuracy is None else make_run({**logs, "val_accuracy": val_accuracy},
                                                      loss="binary_crossentropy", activation="sigmoid", units=1,
                                                      n_train=900)  # fmt: skip
        return diagnose(r, Measurements(train=_sample(x[:900], y[:900]), val=_sample(x[900:], y[900:]),
                                        val_pred=pred))  # fmt: skip

    noisy = report(flipped, sure).get("label_noise")
    assert noisy is not None and noisy.alert, "wrong labels hidden behind a weak probe"
    assert noisy.evidence["floor_read_from"] == "the network's validation outputs"
    assert 0.12 <= noisy.evidence["estimated_noise_rate"] <= 0.3
    assert "the network itself is surest about" in noisy.explanation
    # the same network on the clean labels: its surest rows are right, nothing to say about the labels
    assert report(truth, sure, smooth(0.5, 0.97, 12)).get("label_noise") is None
    # clean labels the cheap models cannot read at all (the parity of three features), and a network a little
    # above chance: neither model is right about its surest rows much more often than about the rest, which says
    # nothing about the labels
    parity = ((x[:, :3] > 0).sum(axis=1) % 2).astype(int)
    said = np.where(rng.random(300) < 0.64, parity[900:], 1 - parity[900:])
    vague = np.where(said == 1, rng.uniform(0.55, 0.85, 300), rng.uniform(0.15, 0.45, 300))
    accuracy = float(np.mean(said == parity[900:]))
    weak = report(parity, vague, smooth(0.5, accuracy, 12)).get("label_noise")
    assert weak is None or not weak.alert, weak


# ---------------------------------------------------------------------- checks that misfired


def test_duplicates_expected_by_chance_are_not_leakage():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 6, (800, 1)).astype(float)  # one feature with six values: rows repeat by chance
    y = (x[:, 0] > 2).astype(int)
    m = Measurements(train=_sample(x[:600], y[:600]), val=_sample(x[600:], y[600:]))
    logs = {"loss": smooth(0.7, 0.1, 10), "accuracy": smooth(0.6, 1.0, 10), "val_loss": smooth(0.7, 0.1, 10),
            "val_accuracy": smooth(0.6, 1.0, 10)}  # fmt: skip
    run = make_run(logs, loss="binary_crossentropy", activation="sigmoid", units=1, n_train=600)
    assert diagnose(run, m).get("data_leakage") is None


def test_the_noise_floor_tells_wrong_labels_from_overlapping_classes():
    rng = np.random.default_rng(0)
    n = 900
    truth = rng.integers(0, 2, n)
    # wrong labels: the probe is sure of the true class everywhere, and 20 % of the labels disagree
    sure = np.where(truth[:, None] == np.arange(2), 0.95, 0.05)
    flipped = np.where(rng.random(n) < 0.2, 1 - truth, truth)
    floor, ratio = noise_floor(sure, flipped)
    assert floor > 0.15 and ratio > 0.8
    # overlap: the probe is unsure near the boundary, where its errors are; sure far from it, and right there
    margin = rng.uniform(-1, 1, n)
    p1 = 1 / (1 + np.exp(-4 * margin))
    labels = (rng.random(n) < p1).astype(int)
    floor, ratio = noise_floor(np.c_[1 - p1, p1], labels)
    assert ratio < 0.4


def test_a_second_model_tells_wrong_labels_from_shared_blind_spots():
    rng = np.random.default_rng(1)
    n = 900
    truth = rng.integers(0, 2, n)
    flipped = np.where(rng.random(n) < 0.3, 1 - truth, truth)

    def learned(jitter):  # a model sure of the true class, each row a little differently
        p1 = np.clip(np.where(truth == 1, 0.8, 0.2) + rng.normal(0, jitter, n), 0.01, 0.99)
        return np.c_[1 - p1, p1]

    # wrong labels: both models learned the true classes, so they contradict the same labels
    assert consensus(learned(0.1), learned(0.1), flipped) >= 0.9
    # two models that learned little, each its own way: the other shares the first's errors about as often as it
    # errs anywhere (here 40 %), not because the labels are wrong
    def weak():
        p1 = np.clip(0.5 + 0.15 * (2 * truth - 1) * rng.random(n) + rng.normal(0, 0.2, n), 0.01, 0.99)
        return np.c_[1 - p1, p1]

    assert consensus(weak(), weak(), truth) <= 0.65
    assert consensus(learned(0.1), None, flipped) is None


def test_heavy_noise_on_two_classes_is_told_from_a_model_that_learned_little():
    # 30 % of two well-separated classes' labels flipped: the probe's surest rows disagree with their labels at
    # about 0.3, three fifths of the error of always saying the common class, where a model that learned little
    # sits too; the other cheap model contradicting the same labels tells the two apart
    rng = np.random.default_rng(4)
    n = 800
    truth = rng.integers(0, 2, n)
    x = rng.normal(0, 1, (n, 8)) + 1.5 * np.where(truth[:, None] == 1, 1.0, -1.0) * (np.arange(8) < 4)
    flipped = np.where(rng.random(n) < 0.3, 1 - truth, truth)
    logs = {"loss": smooth(0.69, 0.35, 20), "accuracy": smooth(0.6, 0.85, 20), "val_loss": smooth(0.69, 0.62, 20),
            "val_accuracy": smooth(0.6, 0.69, 20)}  # fmt: skip
    run = make_run(logs, loss="sparse_categorical_crossentropy", activation="softmax", units=2, n_train=640)
    m = Measurements(train=_sample(x[:640], flipped[:640]), val=_sample(x[640:], flipped[640:]))
    found = diagnose(run, m).get("label_noise")
    assert found is not None and found.alert, "heavy noise on two classes read as a model that learned little"
    assert found.evidence["other_model_shares_surest_errors"] >= 0.8
    assert "trained apart contradicts the same labels" in found.explanation
    # clean labels neither cheap model can read (the parity of three features): both near chance, each wrong on
    # rows of its own; nothing to say about the labels
    parity = ((x[:, :3] > 0).sum(axis=1) % 2).astype(int)
    chance = {**logs, "accuracy": smooth(0.5, 0.6, 20), "val_accuracy": [0.5] * 20}
    m = Measurements(train=_sample(x[:640], parity[:640]), val=_sample(x[640:], parity[640:]))
    weak = diagnose(make_run(chance, activation="softmax", units=2, n_train=640), m).get("label_noise")
    assert weak is None or not weak.alert, weak


def test_two_models_saying_the_common_class_everywhere_are_no_witness():
    # 75:25 labels the features do not predict: both cheap models say the common class almost everywhere, so they
    # "agree" on nearly every label they contradict; that says nothing about the labels (the class shares do)
    rng = np.random.default_rng(6)
    n = 1200
    x = rng.normal(size=(n, 10))
    y = (rng.random(n) < 0.25).astype(int)
    logs = {"loss": smooth(0.6, 0.55, 15), "accuracy": smooth(0.74, 0.76, 15), "val_loss": smooth(0.6, 0.57, 15),
            "val_accuracy": [0.75] * 15}  # fmt: skip
    run = make_run(logs, loss="binary_crossentropy", activation="sigmoid", units=1, n_train=900)
    found = diagnose(run, Measurements(train=_sample(x[:900], y[:900]), val=_sample(x[900:], y[900:]))).get(
        "label_noise"
    )
    assert found is None or not found.alert, found


def test_vanishing_gradients_with_saturating_activations():
    logs = {"loss": [0.693] * 6, "accuracy": [0.5] * 6, "val_loss": [0.693] * 6, "val_accuracy": [0.5] * 6}
    from stallmagic.record import LayerRecord

    layers = [LayerRecord(name=f"d{i}", class_name="Dense", units=32, activation="tanh") for i in range(3)]
    layers.append(LayerRecord(name="out", class_name="Dense", units=1, activation="sigmoid"))
    probe = GradientProbe(layers=["d0", "d1", "d2", "out"],
                          grad_norms={"start": [2e-6, 2e-5, 3e-4, 0.4]},
                          weight_norms={"start": [0.05, 0.05, 0.05, 0.05]})  # fmt: skip
    run = make_run(logs, loss="binary_crossentropy", activation="sigmoid", units=1, layers=layers)
    top = diagnose(run, Measurements(gradients=probe)).findings[0]
    assert top.code == "vanishing_gradient" and math.isclose(top.evidence["saturating_layers"], 3)


def test_a_symptom_never_ends_above_the_root_that_explains_it():
    # optimizer_choice explains underfitting, and is itself explained by vanishing_gradient, found with less
    # confidence: underfitting must follow its root down the chain
    findings = [Finding("underfitting", "u", "x", {}, 0.9), Finding("optimizer_choice", "o", "x", {}, 0.92),
                Finding("vanishing_gradient", "v", "x", {}, 0.8)]  # fmt: skip
    ranked = rank(findings)
    assert ranked[0].code == "vanishing_gradient"
    by_code = {f.code: f for f in ranked}
    for f in ranked:
        if f.explained_by:
            assert f.confidence < by_code[f.explained_by].confidence


def test_wide_rows_from_one_distribution_are_not_told_apart():
    # principal components fitted on training rows alone make i.i.d. validation rows look different (AUC near 1
    # for 500 noise features); the domain probe must read them as one distribution
    from stallmagic.diagnosis.signals.probes import domain_auc

    x = np.random.default_rng(0).normal(size=(1000, 500))
    assert domain_auc(x[:800], x[800:]).auc < 0.65
    assert domain_auc(x[:800], 3 * x[800:] + 1).auc > 0.9


def test_a_run_that_learned_everything_in_its_first_epoch_is_not_stalled():
    # the loss is flat after epoch 1 because the task was learned at once, and the network is level with the
    # baseline: dead units and flat layers are then no reason to alarm
    x, y = _separable()
    logs = {"loss": [0.05] * 8, "accuracy": [0.99] * 8, "val_loss": [0.06] * 8, "val_accuracy": [0.99] * 8}
    dead = GradientProbe(layers=["d1", "d2", "d3"], grad_norms={"start": [0.1, 0.1, 0.1]},
                         weight_norms={"start": [5, 5, 5]}, dead_relu={"start": {"d1": 0.5}, "end": {"d1": 0.6}},
                         weight_change=[0.5, 0.5, 0.5])  # fmt: skip
    m = Measurements(train=_sample(x[:450], y[:450]), val=_sample(x[450:], y[450:]), gradients=dead)
    assert diagnose(make_run(logs, units=3, n_train=450), m).healthy


# ---------------------------------------------------------------------- classes the held-out scenarios revealed


def _creeping(n=25, start=0.30, slope=0.004):
    up = start + slope * np.arange(n)
    return {"loss": 2.2 - 2 * slope * np.arange(n), "accuracy": up + 0.005, "val_loss": 2.2 - 2 * slope * np.arange(n),
            "val_accuracy": up}  # fmt: skip


def _ten_classes():
    x, y = _separable(n=1000, k=10, d=12)
    return Measurements(train=_sample(x[:750], y[:750]), val=_sample(x[750:], y[750:]))


def test_a_curve_creeping_far_below_the_baseline_lacks_capacity_not_epochs():
    # 0.004 per epoch, 0.5 below what a quick model reaches: closing that would take ~125 more epochs, five times
    # the run. The shortfall is no evidence for "train longer"; its small promised gain is all it has.
    report = diagnose(make_run(_creeping()), _ten_classes())
    codes = [f.code for f in report.findings]
    assert codes[0] == "underfitting", str(report)
    longer = next((f for f in report.findings if f.code == "train_longer"), None)
    assert longer is None or longer.confidence < report.findings[0].confidence - 0.1


def test_a_curve_that_would_close_its_shortfall_soon_is_still_told_to_train_longer():
    # the same shortfall climbed at 0.03 per epoch over 8 epochs: more epochs are what it lacks
    logs = _creeping(n=8, start=0.2, slope=0.03)
    report = diagnose(make_run(logs), _ten_classes())
    assert report.findings[0].code == "train_longer", str(report)


def test_a_layer_narrower_than_the_classes_is_named_as_the_bottleneck():
    from stallmagic.record import LayerRecord

    def layers(shape):
        return [
            LayerRecord(name="dense", class_name="Dense", units=48, activation="relu", output_shape=[None, 48]),
            LayerRecord(name="squeeze", class_name="Dense", units=1, output_shape=shape),
            LayerRecord(name="out", class_name="Dense", units=10, activation="softmax", output_shape=[None, 10]),
        ]

    ends = {"loss": 1.8, "accuracy": 0.35, "val_loss": 1.8, "val_accuracy": 0.34}
    flat = {k: np.full(25, v) for k, v in ends.items()}
    report = diagnose(make_run(flat, layers=layers([None, 1])), _ten_classes())
    under = report.findings[0]
    assert under.code == "underfitting" and under.evidence["bottleneck"] == {"layer": "squeeze", "units": 1,
                                                                           "classes": 10}, str(report)
    assert "'squeeze', one number for 10 classes" in under.explanation
    # one number per step of a sequence (an attention score) is not a bottleneck of the whole row
    report = diagnose(make_run(flat, layers=layers([None, 7, 1])), _ten_classes())
    assert report.findings[0].evidence["bottleneck"] is None


def test_a_first_epoch_blow_up_that_settled_is_an_explosion_not_a_slow_optimizer():
    # binary cross-entropy from a sigmoid's logits, plain SGD at its usual rate: the first epoch's loss is 1,900
    # times a blind guess's (ln 2), then it settles near the guess and creeps; no gradient probe is needed
    loss = [1300.0, 3.7, 1.2, 0.85, 0.78, 0.72, 0.67, 0.63, 0.60, 0.57]
    acc = [0.50, 0.52, 0.53, 0.55, 0.56, 0.57, 0.58, 0.585, 0.59, 0.595]
    logs = {"loss": loss, "accuracy": acc, "val_loss": [*loss[1:], 0.55], "val_accuracy": acc}
    run = make_run(logs, loss="binary_crossentropy", activation="sigmoid", units=1, optimizer="SGD", lr=0.01)
    report = diagnose(run)
    first = report.findings[0]
    assert first.code == "exploding_gradient" and first.alert, str(report)
    assert first.evidence["first_epoch_loss_to_blind_guess"] > 1000
    slow = next(f for f in report.findings if f.code == "optimizer_choice")
    assert slow.explained_by == "exploding_gradient" and not slow.alert
    # at 20x the usual rate, the rate explains the blow-up: not an explosion of the network's own making
    fast = make_run(logs, loss="binary_crossentropy", activation="sigmoid", units=1, optimizer="SGD", lr=0.2)
    assert "exploding_gradient" not in [f.code for f in diagnose(fast).findings]


def _overlapping(n=1200, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    return rng.normal(0, 1, (n, 6)) + 1.2 * np.eye(3, 6)[y], y  # classes overlap: a quick model reaches ~0.75


def test_a_gap_on_a_run_level_with_the_baseline_and_at_its_best_is_only_a_hint():
    x, y = _overlapping()
    m = Measurements(train=_sample(x[:900], y[:900]), val=_sample(x[900:], y[900:]))
    n = 40
    logs = {"loss": smooth(1.0, 0.25, n), "accuracy": smooth(0.5, 0.93, n), "val_loss": smooth(1.0, 0.62, n),
            "val_accuracy": np.concatenate([np.linspace(0.5, 0.8, 20), 0.8 + np.random.default_rng(1).normal(0, 0.003,
                                                                                              n - 20)])}  # fmt: skip
    report = diagnose(make_run(logs, units=3, n_train=900), m)
    over = next(f for f in report.findings if f.code == "overfitting")
    assert not over.alert and over.evidence["gap_costs_nothing_measurable"], str(report)
    assert "costs nothing measurable" in over.explanation
    # the same gap where validation accuracy fell 0.06 from its best: stopping at the best epoch buys that back
    logs["val_accuracy"] = np.concatenate([logs["val_accuracy"][:25], np.linspace(0.79, 0.74, n - 25)])
    report = diagnose(make_run(logs, units=3, n_train=900), m)
    assert report.findings[0].code == "overfitting" and report.findings[0].alert, str(report)
