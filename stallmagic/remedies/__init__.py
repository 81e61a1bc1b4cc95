"""Remedies: what to change when a run stalls, as data that reruns, words and code all read.

``suggest(finding, run, signals)`` proposes :class:`Remedy` objects for a finding, most promising first;
``run.rerun(remedy)`` applies one fairly (:mod:`stallmagic.rerun`); ``remedy.as_code()`` and
``remedy.apply_to_source(cell)`` write the change for the user to keep. :mod:`.attach` gives a diagnosis's report
its remedies (``stallmagic.diagnose``, ``run.diagnose()``), so the diagnosis itself never imports this package.
Importing it does not import Keras; the functions that touch models import it when they run.
"""

from __future__ import annotations

from . import specs as _specs  # noqa: F401  (registers the specs)
from .remedy import KINDS, SPECS, Remedy, RemedyError, Spec
from .suggest import suggest

#: Every remedy code, in catalogue order.
CODES = tuple(SPECS)

__all__ = ["CODES", "KINDS", "SPECS", "Remedy", "RemedyError", "Spec", "suggest"]
