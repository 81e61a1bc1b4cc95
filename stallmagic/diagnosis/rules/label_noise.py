"""Rule on the labels themselves: a sizable share of them look wrong.

Confident learning (cleanlab's ``find_label_issues``) on out-of-fold probabilities from the cheap probe flags the
rows whose given label is unlikely; those are the suspects a rerun can drop. Whether the labels are *noisy* at all
is a separate question, because hard, overlapping classes produce disagreements too. The two differ in where the
disagreements sit: wrong labels are spread evenly, so even the rows the probe is most sure about disagree with
their labels at about the noise rate; overlapping classes disagree near the boundary, and the probe's surest
rows are nearly all right. The rule therefore reads the **noise floor**: the error rate among the third of the
rows the probe is most confident about, and its ratio to the overall error rate.

When the network clearly beats the probe, the probe's disagreements say more about the probe than about the labels
(k-NN on raw pixels, a linear model on an XOR), so the floor is read from the better model instead: the network's
own validation outputs, the share of the validation rows it is surest about that disagree with their labels.
Either reading assumes a model that learned the task: one that learned little is wrong about its surest rows as
often as about the rest, so the confidence fades as the floor nears the error of always predicting the most
common class. That guard alone cannot tell heavy noise on two classes (30 % flipped: a floor of 0.3 against a
chance error of 0.5) from a model that learned little, so the probe's floor has a second witness: the other cheap
model, of another family, trained apart. Where the labels are wrong, both models learned the same true classes and
contradict the same labels (a consensus filter, Brodley & Friedl 1999); a model that learned little errs by its own
blind spots, and the other model shares its errors about as often as it errs anywhere.
"""

from __future__ import annotations

import math

import numpy as np

from ...record import Run
from ..report import Finding
from ..signals import Signals
from .shared import pct, ramp

#: Estimated noise rates below this are not reported.
MIN_NOISE = 0.05
#: Wrong labels disagree as often among the surest rows as overall; overlapping classes far less (measured: 0.7-1.1
#: for flipped labels on digits, breast cancer and wine; 0.2-0.4 for make_moons, make_classification and Pima).
MIN_FLOOR_RATIO = 0.4
#: A model's disagreements among its surest rows speak about the labels only when the model learned the task: its
#: floor well under the error of always predicting the most common class ("chance error"). Confidence ramps from
#: nothing at a floor of 0.7 x the chance error to full at 0.4 x. Labels flipped at random give 0.2-0.6 (10-30 %
#: flips on two classes: chance error 0.5; on ten: 0.9); a model near chance, 0.8-1.
LEARNED_FROM, LEARNED_FULL = 0.7, 0.4
#: The other cheap model confirms that the probe learned the task when it contradicts, with the same class, most of
#: the labels the probe contradicts among its surest rows: from nothing at 0.7 of them to full at 0.9. Labels flipped
#: at random give 0.95-1 (the two models learned the same true classes); models that learned little, 0.5-0.6 (the
#: other model's own error rate and a little more: hard rows are hard for both).
CONSENSUS_FROM, CONSENSUS_FULL = 0.7, 0.9
#: Fewer shared-or-not errors among the surest rows than this say nothing about consensus.
MIN_CONSENSUS_ROWS = 10
#: Two models that learned nothing agree too: both say the common class everywhere and contradict the same rare
#: labels. So the consensus speaks only for a probe that learned something beyond the class shares: its overall
#: out-of-fold error at most this share of the chance error (labels flipped at random: 0.6-0.7 with 30 % flipped on
#: two classes, less on more classes), and below the chance error by 3 of its standard errors.
BEYOND_CHANCE = 0.85


def _surest_third(proba: np.ndarray) -> np.ndarray:
    """The positions of the third of the rows a model gives its highest top probability (ties in row order)."""
    return np.argsort(-proba.max(axis=1), kind="stable")[: len(proba) // 3]


def noise_floor(proba: np.ndarray, labels: np.ndarray) -> tuple[float, float] | None:
    """(error rate among the most confident third of the rows, that rate / the overall error rate).

    Args:
        proba: Out-of-fold class probabilities of shape (n, k).
        labels: The given class index of each row, of shape (n,).

    Returns:
        ``None`` with fewer than 60 rows or no errors at all.
    """
    if len(labels) < 60:
        return None
    wrong = proba.argmax(axis=1) != labels
    overall = float(wrong.mean())
    if overall == 0:
        return None
    surest = _surest_third(proba)
    floor = float(wrong[surest].mean())
    return floor, floor / overall


def _probe_is_outclassed(s: Signals) -> bool:
    """The network beats the probe on validation by more than 0.03 and by more than twice the validation set's
    binomial standard error (sqrt(p(1 - p) / n)): a real margin, not the luck of a small validation set."""
    if s.shortfall is None or s.measurements.val is None or s.measurements.val.y is None:
        return False
    p = min(0.99, max(0.01, s.probe.val_score))
    se = math.sqrt(p * (1 - p) / max(1, len(s.measurements.val.y)))
    return -s.shortfall > max(0.03, 2 * se)


def _probe_floor(probe) -> tuple[float, float, np.ndarray] | None:
    """The noise floor of the probe's out-of-fold probabilities, with the training labels it was read against."""
    labels = np.searchsorted(probe.classes, probe.labels)
    measured = noise_floor(probe.oof_proba, labels)
    return None if measured is None else (*measured, labels)


def _where_words(floor: float, probe_name: str, *, by_network: bool, sampled: bool) -> str:
    """The finding's first sentence: how large a share of labels look wrong, and which model's surest rows say so."""
    if by_network:
        return (
            f"About {pct(floor)} of the labels look wrong: even among the validation rows the network itself is "
            "surest about (it beats a quick baseline), that share disagrees with its label"
        )
    return (
        f"About {pct(floor)} of the training labels{' (in a sample)' if sampled else ''} look wrong: even among "
        f"the rows a {probe_name} trained on the other rows is surest about, that share disagrees with its label"
    )


def _chance_error(labels: np.ndarray) -> float:
    """The error rate of always predicting the most common of ``labels`` (class indices)."""
    return 1.0 - float(np.bincount(labels).max()) / len(labels)


def learned(floor: float, labels: np.ndarray) -> float:
    """How much a model whose surest rows disagree with ``labels`` at ``floor`` learned the task: 0 near the
    error of always predicting the most common class, 1 well under it (:data:`LEARNED_FROM`, :data:`LEARNED_FULL`).
    """
    chance_error = _chance_error(labels)
    if chance_error <= 0:
        return 0.0
    return ramp(LEARNED_FROM - floor / chance_error, 0.0, LEARNED_FROM - LEARNED_FULL)


def consensus(proba: np.ndarray, rival: np.ndarray | None, labels: np.ndarray) -> float | None:
    """Among the most confident third of the rows by ``proba`` that it gets wrong, the share on which ``rival`` (a
    model of another family) predicts the same wrong class.

    Args:
        proba: Out-of-fold class probabilities of shape (n, k), the model the noise floor is read from.
        rival: The other model's out-of-fold probabilities, same shape, or ``None``.
        labels: The given class index of each row, of shape (n,).

    Returns:
        ``None`` without a rival or with fewer than :data:`MIN_CONSENSUS_ROWS` such rows.
    """
    if rival is None or rival.shape != proba.shape:
        return None
    surest = _surest_third(proba)
    said = proba[surest].argmax(axis=1)
    wrong = said != labels[surest]
    if wrong.sum() < MIN_CONSENSUS_ROWS:
        return None
    return float(np.mean(rival[surest][wrong].argmax(axis=1) == said[wrong]))


def beats_chance(error: float, labels: np.ndarray) -> bool:
    """A model whose error on ``labels`` is ``error`` learned something beyond the class shares: at most
    :data:`BEYOND_CHANCE` of the chance error, and 3 binomial standard errors under it."""
    chance_error = _chance_error(labels)
    se = math.sqrt(chance_error * (1 - chance_error) / len(labels))
    return error <= BEYOND_CHANCE * chance_error and error <= chance_error - 3 * se


def _network_floor(s: Signals) -> tuple[float, float, np.ndarray] | None:
    """The noise floor (:func:`noise_floor`) of the network's own validation outputs when they are probabilities,
    with the validation labels it was read against."""
    proba = s.val_class_probabilities
    if proba is None:
        return None
    measured = noise_floor(proba, s.labels.val)
    return None if measured is None else (*measured, s.labels.val)


def label_noise(run: Run, s: Signals) -> Finding | None:
    """A sizable share of training labels look wrong.

    The noise rate is estimated by the noise floor (module docstring): the probe's out-of-fold one, or the
    network's own on validation when the network clearly beats the probe (a weak probe, such as k-NN on raw
    pixels, disagrees with good labels as evenly as a good probe with bad ones). Fires when it is at least 5 % and
    at least 0.4 of the overall error rate.
    Confidence = (0.3 + 0.65 x ramp(floor, 0.05, 0.2)) x ramp(ratio, 0.4, 0.7) x the share of the task learned:
    :func:`learned`, or for the probe's floor the other model's :func:`consensus` (ramp 0.7-0.9) when it says more
    and the probe :func:`beats_chance`.
    """
    if s.task != "classification":
        return None
    probe = s.probe
    if probe is None or probe.oof_proba is None or probe.label_issues is None or probe.confident_wrong is None:
        return None
    by_network = _probe_is_outclassed(s)  # then the probe's disagreements say more about it than the labels
    measured = _network_floor(s) if by_network else _probe_floor(probe)
    if measured is None:
        return None
    floor, ratio, labels = measured
    if floor < MIN_NOISE or ratio < MIN_FLOOR_RATIO:
        return None
    agreed = None
    if not by_network and beats_chance(floor / ratio, labels):  # floor / ratio: the overall error rate
        agreed = consensus(probe.oof_proba, probe.rival_oof_proba, labels)
    learned_share = max(learned(floor, labels), ramp(agreed or 0.0, CONSENSUS_FROM, CONSENSUS_FULL))
    conf = (0.3 + 0.65 * ramp(floor, MIN_NOISE, 0.2)) * ramp(ratio, MIN_FLOOR_RATIO, 0.7) * learned_share
    if conf <= 0:
        return None
    suspect = probe.label_issues & probe.confident_wrong
    train = s.measurements.train
    positions = probe.positions[suspect]
    rows = train.rows[positions] if train is not None and train.rows is not None else positions
    sampled = train is not None and train.n_total is not None and train.n_total > probe.n_train
    ev = {
        "estimated_noise_rate": round(floor, 4),
        "floor_to_overall_error": round(ratio, 3),
        "learned_the_task": round(learned_share, 3),
        "flagged_rows": int(suspect.sum()),
        "rows_checked": len(suspect),
        "cleanlab_issues": int(probe.label_issues.sum()),
        "floor_read_from": "the network's validation outputs" if by_network else f"the {probe.model_name}",
        "probe_model": probe.model_name,
        "probe_oof_accuracy": round(probe.oof_accuracy or 0.0, 4),
        "suspect_rows": sorted(int(r) for r in np.asarray(rows)),
    }
    where = _where_words(floor, probe.model_name, by_network=by_network, sampled=sampled)
    if agreed is not None:
        ev["other_model_shares_surest_errors"] = round(agreed, 3)
        where += f"; a {probe.rival_name} trained apart contradicts the same labels on {pct(agreed)} of those rows"
    return Finding(
        "label_noise",
        "Many labels look wrong",
        f"{where} (overlapping classes would disagree mostly near the boundary). Confident learning flags "
        f"{int(suspect.sum())} rows. The network memorizes those labels instead of the pattern, and validation "
        "accuracy is capped by them. Inspect or relabel the flagged rows, or retrain without them.",
        ev,
        conf,
    )
