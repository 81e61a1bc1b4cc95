"""One usable Remedy of every registered code, for the tests that go over all of them (snippets, properties)."""

from __future__ import annotations

from stallmagic.remedies import Remedy
from stallmagic.remedies.remedy import SPECS, Spec, spec_for

#: Parameters for the remedies whose defaults alone do not make a usable remedy.
PARAMS = {
    "learning_rate": {"learning_rate": 0.01},
    "fix_loss": {"loss": "sparse_categorical_crossentropy", "from_logits": True, "output_activation": "linear"},
    "epochs": {"epochs": 40},
    "class_weight": {"class_weight": {0: 1.0, 1: 2.5}},
    "drop_suspect_labels": {"rows": [3, 7]},
    "more_data": {"learning_curve": [[100, 0.7], [200, 0.8]], "suggested_rows": 400},
    "relabel": {"rows": [3, 7]},
    "wider_model": {"factor": 2.0, "min_units": 12},  # with the floor a bottleneck gets
}


def every_remedy(context: dict | None = None) -> list[Remedy]:
    """One Remedy per registered code, in catalogue order (a code missing from :data:`PARAMS` whose defaults do
    not validate raises ``RemedyError``: add it there)."""
    spec_for("epochs")  # fills SPECS
    return [Remedy(code, PARAMS.get(code, {}), context=dict(context or {})) for code in SPECS]


def rewriting_codes() -> list[str]:
    """The codes whose spec writes itself into a cell (it overrides :meth:`Spec.rewrite`)."""
    spec_for("epochs")
    return [code for code, spec in SPECS.items() if type(spec).rewrite is not Spec.rewrite]
