"""Diagnosis: why validation accuracy stalls, ranked, with evidence. Pure: no Keras, no IPython.

``diagnose(run, measurements)`` runs every rule of :data:`RULES` (:mod:`.rules`) on shared :class:`Signals`,
ranks the findings (:mod:`.ranking`), attaches remedies, and returns a :class:`Report`. ``Run.diagnose()`` measures
the live model and data first (:mod:`stallmagic.diagnosis.measure`) and then calls this.
"""

from __future__ import annotations

import math
import time

from ..record import Run
from .causes import CAUSES, FAMILY, TIER
from .measurements import ArraySample, GradientProbe, Measurements
from .ranking import rank
from .report import ALERT, Finding, Report
from .rules import RULES
from .signals import Signals, resolve_metric


def diagnose(
    run: Run,
    measurements: Measurements | None = None,
    *,
    metric: str | None = None,
    with_remedies: bool = True,
    seed: int = 0,
) -> Report:
    """Explain what holds the run's validation metric back.

    Args:
        run: A captured Run (finished, or partial after an error).
        measurements: Samples, predictions and gradient probes from
            :func:`stallmagic.diagnosis.measure.measure`; without them only the curves and the model's
            configuration are read.
        metric: The metric that "accuracy" means here (default: the first accuracy-like metric, else the loss).
        with_remedies: Attach remedies to each finding (default ``True``).
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
    if with_remedies:
        _attach_remedies(findings, run, signals)
    report = Report(
        run_label=run.label,
        metric=signals.metric.train_key,
        findings=findings,
        summary=_summary(run, signals),
        notes=_unique(signals.notes),
        timings=signals.timings,
    )
    report.timings["diagnose"] = time.perf_counter() - start
    return report


def diagnose_run(run: Run, *, metric: str | None = None, gradients: bool = True) -> Report:
    """Measure a live run's model and data, diagnose it, and keep the report on it (what ``Run.diagnose()`` does).

    Args:
        run: A captured Run; without its data (a Run rebuilt from JSON) only the curves and the configuration are
            read.
        metric: What "accuracy" means for this run (default: the first accuracy-like metric, else the loss).
        gradients: Run the gradient/dead-ReLU probe (default ``True``; TensorFlow backend only).

    Returns:
        The :class:`Report`, also kept as ``run.report``.
    """
    from .measure import measure  # lazy: measuring needs Keras, the rest of the diagnosis does not

    measurements = measure(run, gradients=gradients) if run.data is not None else None
    run.report = diagnose(run, measurements, metric=metric)
    return run.report


def _attach_remedies(findings: list[Finding], run: Run, signals: Signals) -> None:
    """Each finding's remedies, from :func:`stallmagic.remedies.suggest`.

    The one upward import of the diagnosis, made here at call time: remedies read the diagnosis's signals and
    checks, and a report is handed out with its remedies attached. Remedies import neither Keras nor IPython, so
    the core stays pure.
    """
    from ..remedies import suggest

    for finding in findings:
        finding.remedies = suggest(finding, run, signals)


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
    "Report", "Signals", "diagnose", "diagnose_run", "resolve_metric",
]  # fmt: skip
