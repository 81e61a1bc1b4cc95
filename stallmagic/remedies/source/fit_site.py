"""Which ``.fit(...)`` call of a cell was the captured fit.

A cell may hold several ``.fit(`` calls: ``scaler = StandardScaler().fit(x)`` after ``model.fit(...)``, a fit per
fold, a helper that calls ``m.fit``. A fix belongs in the one that was captured, so the choice is made, in order:

1. by the call site the capture recorded (:func:`~stallmagic._internal.call_site.calling_frames`, turned into a
   :class:`FitSite` by :meth:`FitSite.from_frames`): the call that ends where the intercepted call ended (the
   column tells apart two fits on one line), else the one on that line; from the innermost frame in the cell
   outwards, passing over ``super().fit(...)`` inside a ``fit`` the cell overrides;
2. without a recorded site, by the names bound to the captured model (:attr:`FitSite.receivers`), then by the only
   call whose arguments bind to ``keras.Model.fit``'s, then by the only one whose receiver the cell compiles or
   builds as a Keras model.

When none of these decides, no call is edited and the reason says so in one line (:func:`choose_fit`).
Pure: positions and names only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class CallPosition:
    """Where a call stands in the cell's source.

    Attributes:
        line: The 1-based line where the call starts.
        end_line: The 1-based line of its closing parenthesis (``None``: not known).
        end_col: The 0-based column, in characters, just past its closing parenthesis (``None``: not known).
    """

    line: int
    end_line: int | None = None
    end_col: int | None = None


@dataclass(frozen=True)
class FitSite:
    """What tells the captured fit apart from the cell's other ``.fit(...)`` calls.

    Attributes:
        positions: Where, in the cell, the captured fit was called: one position per calling frame in the cell,
            innermost first (the ``fit`` call itself, then the call of the function that made it, ...).
        outside: True when the fit was called by code that is not in the cell at all.
        receivers: Names bound to the captured model (``("model",)``), for when no position is known.
    """

    positions: tuple[CallPosition, ...] = ()
    outside: bool = False
    receivers: tuple[str, ...] = ()

    @classmethod
    def from_frames(
        cls, frames: Sequence[dict] | None, *, file: str, source: str, first_line: int = 1
    ) -> FitSite | None:
        """The site of a fit in a cell, from the calling frames the capture recorded.

        Args:
            frames: ``Run.extras["call_sites"]``: dicts with ``file``, ``line`` and, where known, ``end_line`` and
                ``end_col`` (UTF-8 bytes, as Python counts).
            file: The file name the cell's code ran under (IPython's name for the cell).
            source: The cell's source, to count columns in characters.
            first_line: The line of ``file`` that holds the cell's first line.

        Returns:
            ``None`` when nothing was recorded (a run loaded from a file, or a rerun); a site with ``outside`` set
            when no frame ran in the cell's file.
        """
        if not frames:
            return None
        lines = source.splitlines()
        positions = []
        for frame in frames:
            if frame.get("file") != file or not isinstance(frame.get("line"), int):
                continue
            end_line, end_col = frame.get("end_line"), frame.get("end_col")
            if isinstance(end_line, int) and isinstance(end_col, int):
                end_line = end_line - first_line + 1
                end_col = _characters(lines[end_line - 1], end_col) if 0 < end_line <= len(lines) else None
            else:
                end_line = end_col = None
            positions.append(CallPosition(frame["line"] - first_line + 1, end_line, end_col))
        return cls(positions=tuple(positions), outside=not positions)


def _characters(line: str, byte_col: int) -> int:
    """A column counted in UTF-8 bytes (Python's positions) as a count of characters (libcst's)."""
    return len(line.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))


@dataclass(frozen=True)
class FitCandidate:
    """One ``.fit(...)`` call of the cell, as :func:`choose_fit` sees it.

    Attributes:
        start: (line, column) where the call starts.
        end: (line, column) just past its closing parenthesis.
        receiver: The code of what ``.fit`` is called on (``model``, ``StandardScaler()``, ``super()``).
        binds: Whether its arguments bind to ``keras.Model.fit``'s parameters.
    """

    start: tuple[int, int]
    end: tuple[int, int]
    receiver: str
    binds: bool = True


def choose_fit(
    candidates: Sequence[FitCandidate], site: FitSite | None, *, keras_models: Sequence[str] = ()
) -> tuple[int | None, str | None]:
    """The index in ``candidates`` of the captured fit, or ``(None, why)``.

    Args:
        candidates: The cell's ``.fit(...)`` calls, in source order.
        site: What the capture recorded (``None``: nothing).
        keras_models: Names the cell compiles or builds as Keras models (``model.compile(...)``,
            ``model = keras.Sequential(...)``), the last hint when nothing was recorded.
    """
    if site is not None and site.outside:
        return None, "the captured fit was called from code outside this cell, so its call is not here to edit"
    if site is not None and site.positions:
        return _by_position(candidates, site.positions)
    keras_fits = [i for i, c in enumerate(candidates) if c.binds and c.receiver != "super()"]
    if not keras_fits:
        return None, "the model.fit call is not in this cell"
    receivers = site.receivers if site is not None else ()
    named = [i for i in keras_fits if candidates[i].receiver in receivers]
    keras_fits = named or keras_fits
    if len(keras_fits) == 1:
        return keras_fits[0], None
    known = [i for i in keras_fits if candidates[i].receiver in keras_models]
    if len(known) == 1:
        return known[0], None
    lines = sorted({candidates[i].start[0] for i in keras_fits})
    where = f"line {lines[0]}" if len(lines) == 1 else "lines " + ", ".join(map(str, lines))
    return None, (
        f"this cell has {len(keras_fits)} .fit(...) calls (on {where}) and nothing recorded says which one was the "
        "captured fit"
    )


def _by_position(candidates: Sequence[FitCandidate], positions: Sequence[CallPosition]) -> tuple[int | None, str]:
    for pos in positions:
        found = None
        if pos.end_line is not None and pos.end_col is not None:
            exact = [i for i, c in enumerate(candidates) if c.end == (pos.end_line, pos.end_col)]
            found = exact[0] if len(exact) == 1 else None
        if found is None:
            on_line = [i for i, c in enumerate(candidates) if c.start[0] <= pos.line <= c.end[0]]
            on_line = [i for i in on_line if pos.end_line is None or candidates[i].end[0] == pos.end_line]
            found = on_line[0] if len(on_line) == 1 else None
        if found is not None and candidates[found].receiver != "super()":
            return found, None
    return None, (
        f"the captured fit was called at line {positions[0].line} of this cell, where no .fit(...) call can be "
        "edited (an IPython magic, or a fit made by code defined elsewhere)"
    )
