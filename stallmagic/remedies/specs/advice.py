"""Advice: remedies with evidence and code to read but no button, for changes a rerun cannot make (more rows,
relabeled rows, data fixed at its source). Their ``as_code`` is what to run or look at, not a change to keep.
"""

from __future__ import annotations

from typing import ClassVar

from ..remedy import Remedy, Spec, register


class AdviceSpec(Spec):
    """A recommendation: ``kind`` is ``"advice"``, so the panel shows it with its evidence and no Apply button, and
    the base :meth:`Spec.apply` refuses it in a rerun."""

    kind = "advice"


@register
class MoreData(AdviceSpec):
    code = "more_data"
    title = "Collect more data"

    def describe(self, remedy: Remedy) -> str:
        p = remedy.params
        n, gain, suggested = p.get("n_train"), p.get("gain_last_doubling"), p.get("suggested_rows")
        text = "Collect more labeled rows (or augment the ones you have)"
        if n and gain is not None:
            text += (
                f": a quick {p.get('probe_model', 'model')} still gained {gain:+.3f} validation accuracy from "
                f"{n // 2:,} to {n:,} rows"
            )
            if suggested:
                text += f", so about {suggested:,} rows (twice as many) should lift it further"
        return text + ". Meanwhile, regularize (dropout, L2, early stopping)."

    def as_code(self, remedy: Remedy) -> str:
        curve = remedy.params.get("learning_curve") or []
        lines = ["# validation score of a quick model vs training rows (the learning-curve probe):"]
        lines += [f"#   {int(n):>7,} rows -> {score:.3f}" for n, score in curve]
        if remedy.params.get("suggested_rows"):
            lines.append(f"# aim for about {remedy.params['suggested_rows']:,} training rows")
        return "\n".join(lines)


@register
class Relabel(AdviceSpec):
    code = "relabel"
    title = "Review the flagged labels"

    def describe(self, remedy: Remedy) -> str:
        n = len(remedy.params.get("rows") or ())
        return (
            f"Review the {n} training rows whose labels a cross-validated model confidently disagrees with, and fix "
            "the wrong ones at the source; relabeling beats dropping when the rows are otherwise valuable."
        )

    def as_code(self, remedy: Remedy) -> str:
        rows = list(remedy.params.get("rows") or ())
        return (
            f"suspect = {rows!r}  # rows of the training split\n"
            "for i in suspect[:20]:\n"
            "    print(i, y_train[i])  # look at x_train[i]: is the label right?"
        )


@register
class CleanData(AdviceSpec):
    code = "clean_data"
    title = "Clean the inputs"

    def describe(self, remedy: Remedy) -> str:
        return (
            "Find where the NaN/inf or constant values come from (a failed join, a division by zero, a wrong "
            "column) and fix them at the source; impute only what is genuinely missing."
        )

    def as_code(self, remedy: Remedy) -> str:
        return (
            "bad = ~np.isfinite(x_train)\n"
            "print('rows with NaN/inf:', bad.any(axis=1).sum(), 'features:', np.flatnonzero(bad.any(axis=0)))"
        )


@register
class SamePreprocessing(AdviceSpec):
    code = "same_preprocessing"
    title = "Prepare validation like training"

    def describe(self, remedy: Remedy) -> str:
        features = remedy.params.get("features")
        where = f" (features {features} differ most)" if features else ""
        return (
            f"Validation rows are told apart from training rows{where}. Fit each preprocessing step (scaling, "
            "encoding, resizing) on the training rows and apply exactly the same transform to validation and "
            "test rows, and draw all splits from the same source."
        )

    def as_code(self, remedy: Remedy) -> str:
        return (
            "scaler = StandardScaler().fit(x_train)  # fitted on training rows only\n"
            "x_train, x_val = scaler.transform(x_train), scaler.transform(x_val)  # the same transform for both"
        )


@register
class Deduplicate(AdviceSpec):
    code = "deduplicate"
    title = "Deduplicate before splitting"

    def describe(self, remedy: Remedy) -> str:
        share = remedy.params.get("shared_share")
        head = f"About {100 * share:.0f}% of validation rows also appear in training. " if share else ""
        return head + (
            "Remove duplicate rows before splitting (or split by group, e.g. GroupShuffleSplit on a patient or "
            "session id) so validation only holds rows the model has never seen."
        )

    def as_code(self, remedy: Remedy) -> str:
        return (
            "x, first = np.unique(x, axis=0, return_index=True)\n"
            "y = y[first]  # then split: train_test_split(x, y, test_size=0.2, stratify=y)"
        )


@register
class CollectMinorityExamples(AdviceSpec):
    """Collect more rows of the rare classes, and judge by per-class recall (the code stays ``collect_minority``:
    it is stored in reports)."""

    code = "collect_minority"
    title = "More minority examples"

    def describe(self, remedy: Remedy) -> str:
        classes = remedy.params.get("minority_classes")
        return (
            f"Collect more examples of the rare class{'es' if classes and len(classes) > 1 else ''}"
            f"{' ' + str(classes) if classes else ''}, and judge the model by per-class recall or balanced accuracy "
            "rather than accuracy, which the majority class dominates."
        )

    def as_code(self, remedy: Remedy) -> str:
        return (
            "from sklearn.metrics import classification_report\n\n"
            "probs = model.predict(x_val)\n"
            "pred = probs.argmax(axis=1) if probs.shape[-1] > 1 else (probs[:, 0] > 0.5).astype(int)\n"
            "print(classification_report(y_val, pred))  # per-class recall"
        )


@register
class FixCode(AdviceSpec):
    code = "fix_code"
    title = "Fix it in the code"
    defaults: ClassVar[dict] = {"text": ""}

    def describe(self, remedy: Remedy) -> str:
        return remedy.params.get("text") or "Change the model or data code as the finding explains."

    def as_code(self, remedy: Remedy) -> str:
        return "# " + self.describe(remedy)
