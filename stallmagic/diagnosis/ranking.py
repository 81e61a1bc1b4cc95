"""How findings are ordered: certain findings first, root causes above the symptoms they produce, then by
confidence.

The rules: when a root cause is found (confidence >= 0.5) and another finding is one of its known symptoms (the
:data:`SYMPTOMS` table), the symptom is marked ``explained_by`` the root and its confidence is capped below the
root's and below the alert level: it restates the root's effect and becomes a hint. Findings unrelated to any
root keep their own confidence. A definite configuration bug (:data:`DEFINITE`: a loss the output cannot satisfy,
labels the loss cannot read, NaN in the data) comes before any statistical finding (unscaled inputs, label noise,
leakage), however sure that one is: it is certain, and it must be fixed before any curve means anything; the
other causes found beside it stay below 0.8 (present, but not what stalls the run first). The rest is sorted by
confidence, highest first. Example: inputs on a scale of 1000 (``unscaled_inputs``) make the
loss diverge; ``lr_too_high`` is reported too, but below and "likely a consequence of unscaled_inputs".
"""

from __future__ import annotations

from .report import ALERT, Finding

_REGIME_AND_MODEL = (
    "overfitting", "underfitting", "lr_too_high", "lr_too_low", "batch_size", "optimizer_choice", "train_longer",
    "vanishing_gradient", "exploding_gradient", "dying_relu",
)  # fmt: skip

#: root cause -> the findings it can produce on the curves or in the probes.
SYMPTOMS: dict[str, tuple[str, ...]] = {
    # the problem is defined wrong: everything downstream is a symptom
    "data_quality": (*_REGIME_AND_MODEL, "class_imbalance", "label_noise", "insufficient_data", "unscaled_inputs",
                     "unscaled_targets", "distribution_shift"),
    "loss_mismatch": (*_REGIME_AND_MODEL, "class_imbalance", "unscaled_targets", "label_noise"),
    "unshuffled_validation_split": (
        "overfitting", "underfitting", "class_imbalance", "insufficient_data", "lr_too_high", "label_noise",
        "distribution_shift", "train_longer",
    ),
    "data_leakage": ("overfitting", "underfitting", "insufficient_data"),
    "distribution_shift": ("overfitting", "underfitting", "insufficient_data", "train_longer", "label_noise"),
    "unscaled_inputs": (*_REGIME_AND_MODEL, "class_imbalance"),
    "unscaled_targets": _REGIME_AND_MODEL,
    # the data cap what can be reached
    "label_noise": ("overfitting", "underfitting", "insufficient_data"),
    "insufficient_data": ("overfitting",),
    "class_imbalance": ("underfitting", "lr_too_low", "optimizer_choice", "train_longer"),
    # broken gradients or units
    "vanishing_gradient": ("underfitting", "lr_too_low", "optimizer_choice", "lr_too_high", "train_longer"),
    # a network that blew up in its first steps and settled near a blind guess then crawls: the optimizer, the
    # remaining epochs and a low rate look like the brake, but they only restate the blow-up
    "exploding_gradient": ("lr_too_high", "dying_relu", "underfitting", "optimizer_choice", "train_longer"),
    # dead units pass no gradient, so the layers before them look "vanishing"; but units that die *during*
    # training at a high learning rate are the rate's symptom (lr_too_high lists dying_relu), not its cause
    "dying_relu": ("underfitting", "lr_too_low", "train_longer", "vanishing_gradient"),
    # an optimization problem keeps accuracy low: "the model cannot fit" is its symptom, not a second cause
    "lr_too_high": ("underfitting", "dying_relu", "overfitting"),
    "lr_too_low": ("underfitting", "train_longer"),
    "batch_size": ("underfitting", "train_longer"),
    "optimizer_choice": ("underfitting", "train_longer"),
}  # fmt: skip

#: Keeps a symptom strictly below its root.
MARGIN = 0.02
#: An explained symptom is a hint: it restates its root's effect, it is not a second cause to fix.
SYMPTOM_CAP = 0.49
#: Findings that are certain when they fire at this confidence or more (a configuration that cannot work, values
#: that poison every batch): they come first, above any statistical finding, whatever its confidence.
DEFINITE = {"loss_mismatch": 0.85, "data_quality": 0.9}
#: Beside a definite bug, another cause is reported as present but not as what stalls the run first: below 0.8,
#: the band that says "this is what holds the run back".
BESIDE_DEFINITE_CAP = 0.79


def rank(findings: list[Finding]) -> list[Finding]:
    """Apply the root-before-symptom rule (module docstring) and sort by confidence, highest first."""
    roots = sorted((f for f in findings if f.alert), key=lambda f: -f.confidence)
    for root in roots:
        for other in findings:
            if other is root or other.code not in SYMPTOMS.get(root.code, ()):
                continue
            if other.explained_by is not None:
                continue
            if other.confidence >= root.confidence - MARGIN or other.alert:
                other.explained_by = root.code
                other.confidence = max(0.0, min(other.confidence, root.confidence - MARGIN, SYMPTOM_CAP))
    # A root that turned out to be a symptom itself was capped after its own symptoms were: carry the caps down
    # the chain, so a symptom never ends above the root that explains it.
    by_code = {f.code: f for f in findings}
    for _ in findings:
        for f in findings:
            root = by_code.get(f.explained_by or "")
            if root is not None:
                f.confidence = max(0.0, min(f.confidence, root.confidence - MARGIN))
    if any(definite(f) for f in findings):
        for f in findings:  # a certain bug stalls the run first: the other causes are present, not the first
            if not definite(f):
                f.confidence = min(f.confidence, BESIDE_DEFINITE_CAP)
    return sorted(findings, key=lambda f: (not definite(f), -f.confidence, f.code))


def definite(finding: Finding) -> bool:
    """Whether ``finding`` is certain (:data:`DEFINITE`): it ranks above every statistical finding."""
    return finding.confidence >= DEFINITE.get(finding.code, 2.0)


__all__ = ["ALERT", "SYMPTOMS", "rank"]
