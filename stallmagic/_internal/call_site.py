"""Where user code called into stallmagic: each calling frame's file and the position of the call it is running,
innermost first, as plain data.

The capture records this for every fit (``Run.extras["call_sites"]``) so that "Keep this fix" edits the call that
was captured, not another ``.fit(`` of the cell, such as ``StandardScaler().fit(x)`` (see
:mod:`stallmagic.remedies.source.fit_site`). Positions are Python's own, those a traceback shows: 1-based lines and
0-based columns counted in UTF-8 bytes (``ast``'s ``col_offset``) of the call expression each frame is running,
read from ``co_positions`` (Python 3.11+; before that, the line alone).
"""

from __future__ import annotations

import itertools
import sys
from types import FrameType


def calling_frames(*, skip: str = "stallmagic.capture", limit: int = 8) -> list[dict]:
    """The frames that called the caller, innermost first: ``{"file", "line"}`` plus, where Python knows them,
    ``"col"``, ``"end_line"`` and ``"end_col"`` of the call each frame is running.

    Frames of the modules under ``skip`` (the ``fit`` wrapper) are passed over first. Recording stops after
    ``limit`` frames or at the first frame back in stallmagic (the magic that ran the cell; for a rerun, which
    stallmagic itself calls, nothing is recorded).
    """
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and _module(frame).startswith(skip):
        frame = frame.f_back
    sites = []
    while frame is not None and len(sites) < limit and not _in_stallmagic(frame):
        sites.append(_site(frame))
        frame = frame.f_back
    return sites


def _module(frame: FrameType) -> str:
    name = frame.f_globals.get("__name__")
    return name if isinstance(name, str) else ""


def _in_stallmagic(frame: FrameType) -> bool:
    name = _module(frame)
    return name == "stallmagic" or name.startswith("stallmagic.")


def _site(frame: FrameType) -> dict:
    site: dict = {"file": frame.f_code.co_filename, "line": frame.f_lineno}
    positions = getattr(frame.f_code, "co_positions", None)  # Python 3.11+
    if positions is None or frame.f_lasti < 0:
        return site
    here = next(itertools.islice(positions(), frame.f_lasti // 2, None), None)  # one entry per 2-byte code unit
    if here is not None and None not in here:
        line, end_line, col, end_col = here
        site.update(line=line, col=col, end_line=end_line, end_col=end_col)
    return site
