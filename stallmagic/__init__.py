"""stallmagic: why is my validation accuracy stuck? A Jupyter magic that diagnoses Keras training and fixes it.

``import stallmagic`` is cheap: Keras is imported when a capture starts, IPython when the extension loads.
"""

from __future__ import annotations

from .capture import capture
from .diagnosis import CAUSES, Finding, Report, diagnose
from .record import Run, Session
from .rerun import sweep

__version__ = "0.1.0"

__all__ = ["CAUSES", "Finding", "Report", "Run", "Session", "__version__", "capture", "diagnose", "sweep"]
