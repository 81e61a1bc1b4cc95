"""``Remedy``: one change to a training, as plain data (a code and its parameters), and the registry of specs.

A Remedy is what a finding proposes and what the rerun engine applies. It holds no Keras object: ``code`` picks the
:class:`Spec` that knows how to describe the change, write it as code, apply it to a rerun (:mod:`.apply`) and
write it into a notebook cell (:mod:`.source`). Keeping the data and the behaviour apart lets a Remedy round-trip
through JSON (the panel and the exported report) and be built by hand::

    Remedy("learning_rate", {"learning_rate": 1e-3})
    Remedy("early_stopping", {"patience": 5})
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .._internal.numbers import maybe_int
from ..record import jsonable

#: ``rerun``: an Apply & rerun button. ``advice``: a recommendation with evidence and no button (the data need a
#: change that training cannot make, e.g. more rows).
KINDS = ("rerun", "advice")


class RemedyError(ValueError):
    """A remedy that cannot be applied to this run (disabled, wrong parameters, or a model it cannot change)."""


class Spec:
    """How one remedy code behaves. Subclasses live in :mod:`.specs`, one small class per code, a module per
    family; their parameters are checked with :mod:`.checks`.

    Attributes:
        code: The remedy code (``"class_weight"``).
        title: A short headline for buttons and tables.
        kind: ``"rerun"`` or ``"advice"``.
        defaults: Parameters used when a Remedy does not give them.
        structural: Whether the change can need a rebuilt model (new or resized layers).
    """

    code: str = ""
    title: str = ""
    kind: str = "rerun"
    defaults: Mapping[str, Any] = {}
    structural: bool = False

    def validate(self, params: dict) -> None:
        """Raise :class:`RemedyError` with one clear sentence when ``params`` are not usable."""

    def unavailable(self, remedy: Remedy, run: Any) -> str | None:
        """Why this remedy does not apply to ``run``, read from its records alone (pure), or ``None``."""
        return None

    def headline(self, remedy: Remedy) -> str:
        """The title of one remedy: the spec's, or more specific when parameters tell remedies of one code apart
        (the panel shows several optimizers side by side)."""
        return self.title

    def describe(self, remedy: Remedy) -> str:
        return self.title

    def as_code(self, remedy: Remedy) -> str:
        return f"# {self.describe(remedy)}"

    def apply(self, plan: Any, remedy: Remedy) -> None:
        """Change the rerun's :class:`~stallmagic.rerun.plan.Plan` (advice has nothing to apply)."""
        raise RemedyError(f"{self.title!r} is a recommendation, not something a rerun can apply.")

    def rewrite(self, editor: Any, remedy: Remedy) -> None:
        """Write the change into a cell through :class:`~stallmagic.remedies.source.CellEditor`."""
        editor.snippet(self.as_code(remedy), "this remedy changes the data or the workflow, not the cell's code")


SPECS: dict[str, Spec] = {}


def register(cls: type[Spec]) -> type[Spec]:
    """Class decorator: add one instance of ``cls`` to :data:`SPECS` under its code."""
    SPECS[cls.code] = cls()
    return cls


def spec_for(code: str) -> Spec:
    from . import specs  # noqa: F401  (fills SPECS)

    try:
        return SPECS[code]
    except KeyError:
        raise RemedyError(f"Unknown remedy code {code!r}. Known codes are: {', '.join(SPECS)}.") from None


@dataclass
class Remedy:
    """One change to try, most often proposed by a finding (see :func:`stallmagic.remedies.suggest`).

    Attributes:
        code: Which change (one of :data:`SPECS`, e.g. ``"class_weight"``, ``"early_stopping"``).
        params: The change's parameters (``{"patience": 5}``); missing ones take the spec's defaults.
        title: A short headline (default: the spec's).
        kind: ``"rerun"`` (can be applied by :meth:`stallmagic.record.Run.rerun`) or ``"advice"``.
        disabled_reason: ``None``, or one sentence why it does not apply to this run (offered disabled).
        finding_code: The finding that proposed it, if any.
        evidence: The numbers behind it (for advice: what the data say, e.g. the learning curve).
        context: What the words and code need to know about the run (loss, metrics, optimizer, model style).
    """

    code: str
    params: dict = field(default_factory=dict)
    title: str = ""
    kind: str = ""
    disabled_reason: str | None = None
    finding_code: str | None = None
    evidence: dict = field(default_factory=dict)
    context: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        spec = spec_for(self.code)
        if not isinstance(self.params, Mapping):
            raise RemedyError(
                f"The 'params' argument of Remedy must be a dict. Got {type(self.params).__name__} instead."
            )
        self.params = {**spec.defaults, **dict(self.params)}
        spec.validate(self.params)
        self.title = self.title or spec.headline(self)
        self.kind = self.kind or spec.kind
        if self.kind not in KINDS:
            raise RemedyError(f"The 'kind' argument of Remedy must be one of {KINDS}. Got {self.kind!r} instead.")

    @property
    def spec(self) -> Spec:
        return spec_for(self.code)

    @property
    def key(self) -> tuple:
        """What tells two remedies apart: the code and the parameters (the same change offered twice is one)."""
        return self.code, repr(sorted(self.params.items(), key=lambda kv: kv[0]))

    @property
    def enabled(self) -> bool:
        """True when a rerun can apply it here (a ``rerun`` remedy with no ``disabled_reason``)."""
        return self.kind == "rerun" and self.disabled_reason is None

    @property
    def structural(self) -> bool:
        return self.spec.structural

    def describe(self) -> str:
        """One sentence: what the change does and why it helps; then what its value is based on, where a builder
        chose it (``evidence["basis"]``)."""
        text = self.spec.describe(self)
        basis = self.evidence.get("basis") if isinstance(self.evidence, Mapping) else None
        return f"{text} Why this value: {basis}." if basis else text

    def as_code(self) -> str:
        """The exact code a user writes to keep this change (``...`` stands for the arguments left as they are)."""
        return self.spec.as_code(self)

    def apply_to_source(self, cell_source: str, *, site: Any = None) -> str:
        """The cell's source with this change written in, formatting and comments kept.

        Where the fit, the compile or the model this change needs is not in the cell, the result is a snippet to
        run before it, starting with a comment that says so. ``site`` (a
        :class:`~stallmagic.remedies.source.FitSite`) tells which ``.fit(...)`` call was the captured fit; without
        it, the cell's only call that can be a Keras fit is edited, and when there are several, none is (the
        snippet's comment says so). See :mod:`stallmagic.remedies.source`.
        """
        from .source import rewrite

        return rewrite(self, cell_source, site=site).source

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "title": self.title,
            "kind": self.kind,
            "params": jsonable(self.params),
            "disabled_reason": self.disabled_reason,
            "finding_code": self.finding_code,
            "description": self.describe(),
            "code_snippet": self.as_code(),
            "evidence": jsonable(self.evidence),
            "context": jsonable(self.context),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Remedy:
        params = dict(data.get("params") or {})
        if isinstance(params.get("class_weight"), Mapping):
            params["class_weight"] = {maybe_int(k): float(v) for k, v in params["class_weight"].items()}
        return cls(
            code=str(data["code"]),
            params=params,
            title=str(data.get("title") or ""),
            kind=str(data.get("kind") or ""),
            disabled_reason=data.get("disabled_reason"),
            finding_code=data.get("finding_code"),
            evidence=dict(data.get("evidence") or {}),
            context=dict(data.get("context") or {}),
        )

    def __str__(self) -> str:
        text = f"{self.title}: {self.describe()}"
        if self.disabled_reason:
            text += f" (not available here: {self.disabled_reason})"
        return text
