"""What a diagnosis returns: ``Finding`` (one cause, with its evidence) and ``Report`` (the ranked list).

Findings carry the numbers behind them; turning them into words for a person (plain text, markdown) happens
here, and HTML lives in the panel and the exporter, so the words can be tested as strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .._internal import numbers
from ..record import jsonable
from .causes import CAUSES

#: A finding at or above this confidence is a real problem; below it, a hint. ``Report.healthy`` uses it.
ALERT = 0.5


@dataclass
class Finding:
    """One cause that holds validation accuracy back.

    Attributes:
        code: One of :data:`stallmagic.CAUSES`.
        title: A short headline ("Class imbalance").
        explanation: 1-3 plain sentences with the run's own numbers.
        evidence: The measured numbers that triggered the rule, e.g. ``{"majority_share": 0.96}``.
        confidence: In [0, 1]; findings at or above 0.5 are reported as problems.
        remedies: What to try, most promising first (filled from :mod:`stallmagic.remedies`).
        explained_by: The code of a root cause found in the same run that this finding is a symptom of.
    """

    code: str
    title: str
    explanation: str
    evidence: dict = field(default_factory=dict)
    confidence: float = 0.0
    remedies: list = field(default_factory=list)
    explained_by: str | None = None

    def __post_init__(self) -> None:
        if self.code not in CAUSES:
            raise ValueError(f"Unknown cause code {self.code!r}. Known codes are: {', '.join(CAUSES)}.")
        self.confidence = float(min(1.0, max(0.0, self.confidence)))

    @property
    def alert(self) -> bool:
        return self.confidence >= ALERT

    def evidence_text(self) -> str:
        """``key=value`` pairs of the evidence, numbers rounded for reading."""
        return ", ".join(f"{k}={numbers.evidence(v)}" for k, v in self.evidence.items())

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "title": self.title,
            "explanation": self.explanation,
            "evidence": jsonable(self.evidence),
            "confidence": round(self.confidence, 4),
            "explained_by": self.explained_by,
            "remedies": [r.to_dict() if hasattr(r, "to_dict") else jsonable(r) for r in self.remedies],
        }


@dataclass
class Report:
    """The diagnosis of one run: findings most likely first, and what could not be checked.

    Attributes:
        run_label: The run's label.
        metric: The metric read as "accuracy" (e.g. ``"accuracy"``, ``"sparse_categorical_accuracy"``,
            ``"auc"``), or the loss when the run logged no accuracy-like metric.
        findings: Sorted by confidence, highest first; root causes rank above the symptoms they explain.
        summary: Headline numbers (best validation value and its epoch, last train/val values, baseline).
        notes: Checks that were skipped or not measured, and why.
        timings: Seconds spent per measurement.
        per_class: A classifier's recall per class and its confusion matrix
            (:class:`~stallmagic.diagnosis.per_class.PerClass`), or ``None`` (not a classification, or no
            predictions measured).
    """

    run_label: str
    metric: str | None
    findings: list[Finding] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    timings: dict = field(default_factory=dict)
    per_class: Any = None

    @property
    def healthy(self) -> bool:
        """True when no finding reaches confidence 0.5."""
        return not any(f.alert for f in self.findings)

    @property
    def top(self) -> Finding | None:
        return self.findings[0] if self.findings else None

    def codes(self, *, alerts_only: bool = False) -> list[str]:
        return [f.code for f in self.findings if f.alert or not alerts_only]

    def get(self, code: str) -> Finding | None:
        return next((f for f in self.findings if f.code == code), None)

    def to_dict(self) -> dict:
        return {
            "run_label": self.run_label,
            "metric": self.metric,
            "healthy": self.healthy,
            "findings": [f.to_dict() for f in self.findings],
            "summary": jsonable(self.summary),
            "notes": list(self.notes),
            "timings": jsonable(self.timings),
            "per_class": self.per_class.to_dict() if self.per_class is not None else None,
        }

    # ------------------------------------------------------------------ words

    def headline(self) -> str:
        """One sentence: the run and where its validation metric got to."""
        s = self.summary
        best, epoch, epochs = s.get("best_val"), s.get("best_epoch"), s.get("epochs_done")
        if best is None:
            return f"{self.run_label}: {s.get('end', 'no epochs recorded')}"
        key = s.get("val_key", "validation")
        return f"{self.run_label}: best {key} {numbers.evidence(best)} at epoch {epoch} of {epochs}"

    def __str__(self) -> str:
        alerts = [f for f in self.findings if f.alert]
        hints = [f for f in self.findings if not f.alert]
        lines = [f"Why is validation accuracy stuck? {self.headline()}"]
        if not alerts:
            lines.append("No problem found: " + self.summary.get("healthy_text", "nothing reached the alert level."))
        for i, f in enumerate(alerts, 1):
            lines.extend(_finding_lines(i, f))
        if hints:
            lines.append("Weaker hints: " + "; ".join(f"{f.title} ({f.confidence:.2f})" for f in hints))
        if self.notes:
            lines.append("Not checked: " + " ".join(self.notes))
        return "\n".join(lines)

    def to_markdown(self) -> str:
        lines = [f"## Why is validation accuracy stuck? {_md(self.headline())}", ""]
        if self.healthy:
            lines += ["No problem found: " + _md(self.summary.get("healthy_text", "")), ""]
        for i, f in enumerate(self.findings, 1):
            lines.append(f"{i}. **{_md(f.title)}** (`{f.code}`, confidence {f.confidence:.2f})")
            lines.append(f"   {_md(f.explanation)}")
            if f.explained_by:
                lines.append(f"   Likely a consequence of `{f.explained_by}`.")
            if f.evidence:
                lines.append(f"   Evidence: {_md(f.evidence_text())}")
            for r in f.remedies:
                lines.append(f"   - Try: {_md(_remedy_text(r))}")
            lines.append("")
        if self.notes:
            lines.append("Not checked: " + _md(" ".join(self.notes)))
        return "\n".join(lines).rstrip() + "\n"


def _finding_lines(i: int, f: Finding) -> list[str]:
    out = [f"{i}. {f.title} (confidence {f.confidence:.2f})", f"   {f.explanation}"]
    if f.explained_by:
        out.append(f"   Likely a consequence of {f.explained_by}; fix that first.")
    if f.evidence:
        out.append(f"   Evidence: {f.evidence_text()}")
    shown = [r for r in f.remedies if not getattr(r, "disabled_reason", None)][:3]
    if shown:
        out.append("   Try: " + "; ".join(_remedy_title(r) for r in shown))
    return out


def _remedy_title(remedy: Any) -> str:
    """A remedy in a few words for the text report: its title, marked when it is advice rather than a rerun."""
    title = getattr(remedy, "title", None) or _remedy_text(remedy)
    return f"{title} (advice)" if getattr(remedy, "kind", "rerun") == "advice" else title


def _remedy_text(remedy: Any) -> str:
    describe = getattr(remedy, "describe", None)
    return describe() if callable(describe) else str(remedy)


def _md(text: str) -> str:
    """Escape what markdown would read as markup or HTML in text that may come from the user's code or data."""
    out = str(text)
    for ch in ("\\", "`", "*", "_", "[", "]", "<", ">", "|"):
        out = out.replace(ch, "\\" + ch)
    return out
