"""Diagnosis: why validation accuracy stalls, ranked, with evidence. Pure: no Keras, no IPython.

``diagnose(run, measurements)`` runs every rule of :data:`RULES` (:mod:`.rules`) on shared :class:`Signals`,
ranks the findings (:mod:`.ranking`) and returns a :class:`Report`. The diagnosis does not know the remedies (the
layer above): a caller that wants them passes :func:`stallmagic.remedies.suggest` as ``remedies``, as
:mod:`stallmagic.remedies.attach` does for ``stallmagic.diagnose`` and ``Run.diagnose()`` (which measures the live
model and data first, with :mod:`stallmagic.diagnosis.measure`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from ..record import Run
from .causes import CAUSES, FAMILY, TIER
from .measurements import ArraySample, GradientProbe, Measurements
from .per_class import from_signals as class_view
from .ranking import rank
from .report import ALERT, Finding, Report
from .rules import RULES
from .signals import Signals, resolve_metric

#: What proposes a finding's remedies: ``(finding, run, signals) -> remedies``, most promising first
#: (:func:`stallmagic.remedies.suggest`). Passed in by the layer above, so the diagnosis never imports it.
RemedySource = Callable[[Finding, Run, Signals], list]


def diagnose(
    run: Run,
    measurements: Measurements | None = None,
    *,
    metric: str | None = None,
    remedies: RemedySource | None = None,
    seed: int = 0,
) -> Report:
    """Explain what holds the run's validation metric back.

    Args:
        run: A captured Run (finished, or partial after an error).
        measurements: Samples, predictions and gradient probes from
            :func:`stallmagic.diagnosis.measure.measure`; without them only the curves and the model's
            configuration are read.
        metric: The metric that "accuracy" means here (default: the first accuracy-like metric, else the loss).
        remedies: What proposes each finding's remedies (:func:`stallmagic.remedies.suggest`), called once per
            finding after ranking and before the summary and notes are read, since it may fill lazy signals
            they report (default ``None``: every finding's ``remedies`` stays empty).
        seed: Seed of the cheap probes (default 0).

    Returns:
        The :class:`Report`, findings most likely first.
    """
    start = time.perf_counter()
    signals = Signals(run, measurements, metric=metric, seed=seed)
    findings: list[Finding] = []
    for rule in RULES:
        t = time.perf_counter()
        finding = rule(run, signals)
        signals.timings[f"rule:{rule.__name__}"] = time.perf_counter() - t
        if finding is not None:
            findings.append(finding)
    findings = rank(findings)
    if remedies is not None:
        for finding in findings:
            finding.remedies = remedies(finding, run, signals)
    per_class = class_view(signals)  # before the notes are read: reading the labels may add one
    report = Report(
        run_label=run.label,
        metric=signals.metric.train_key,
        findings=findings,
        summary=_summary(run, signals),
        notes=_unique(signals.notes),
        timings=signals.timings,
        per_class=per_class,
    )
    report.timings["diagnose"] = time.perf_counter() - start
    return report


def _unique(items: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return list(seen)


def _summary(run: Run, s: Signals) -> dict:
    out: dict = {"end": run.end, "epochs_done": run.epochs_done, "task": s.task}
    val = s.val_acc or s.val_loss
    if val is None and s.judged is not None and s.judged.best_index is not None:
        # no validation: the training curve is what is judged (against the baseline on held-back training rows)
        out.update(judged_on="training", train_key=s.judged.key, best_train=s.judged.best)
    if val is not None and val.best_index is not None:
        out.update(val_key=val.key, best_val=val.best, best_epoch=val.best_index + 1, last_val=val.last)
    train = s.acc or s.loss
    if train is not None and train.n:
        out.update(train_key=train.key, last_train=train.last)
    probe = s.__dict__.get("probe")  # only if a rule computed it
    if probe is not None and probe.val_score is not None:
        out.update(baseline=probe.val_score, baseline_model=probe.model_name)
    if s.chance_accuracy is not None:
        out["chance_accuracy"] = s.chance_accuracy
    score = s.network_score  # in the baseline's units (accuracy or R²), whatever the loss's scale
    if score is not None and math.isfinite(score[1]):
        out.update(score_name=score[0], score=score[1])
    out["healthy_text"] = _healthy_text(out, accuracy=s.metric.kind == "accuracy")
    return out


#: Fewer epochs than this are too few to read trends from.
MIN_EPOCHS = 3
_ENDED = {"error": "ended with an error", "interrupted": "was interrupted", "nan": "ended on a NaN loss"}


def _healthy_text(summary: dict, *, accuracy: bool) -> str:
    """What "no problem found" means for this run, honestly: never "in line with the baseline" when it is not."""
    best, key, epochs = summary.get("best_val"), summary.get("val_key"), summary.get("epochs_done", 0)
    ended = _ENDED.get(summary.get("end", ""))
    if ended or epochs < MIN_EPOCHS:
        how = ended or "stopped"
        return (
            f"the run {how} after {epochs} epoch{'s' if epochs != 1 else ''}, too few to judge the curves; the "
            "checks on the data and the model's configuration found nothing."
        )
    if summary.get("judged_on") == "training":
        text = f"the fit had no validation data; training {summary['train_key']} reached {summary['best_train']:.3g}"
        return _against_baseline(text, summary["best_train"], summary, accuracy=accuracy)
    if best is None or (isinstance(best, float) and math.isnan(best)):
        return "the run logged no validation metric to judge; the checks that ran raised nothing."
    text = f"{key} reached {best:.3g} (best at epoch {summary['best_epoch']})"
    return _against_baseline(text, best, summary, accuracy=accuracy)


def _against_baseline(text: str, best: float, summary: dict, *, accuracy: bool) -> str:
    baseline = summary.get("baseline")
    if baseline is not None and accuracy:
        if best >= baseline - 0.03:
            text += f", in line with a quick {summary['baseline_model']} baseline ({baseline:.3g})"
        else:
            return (
                f"{text}, below a quick {summary['baseline_model']} baseline ({baseline:.3g}), but no check could "
                "name a cause with confidence; see the weaker hints."
            )
    return text + ", and no check found a cause that holds it back."


__all__ = [
    "ALERT", "CAUSES", "FAMILY", "RULES", "TIER", "ArraySample", "Finding", "GradientProbe", "Measurements",
    "RemedySource", "Report", "Signals", "diagnose", "resolve_metric",
]  # fmt: skip
