"""stallmagic: why is my validation accuracy stuck? A Jupyter magic that diagnoses Keras training and fixes it.

``import stallmagic`` is cheap: Keras is imported when a capture starts, IPython when the extension loads.
"""

from __future__ import annotations

from .capture import capture
from .diagnosis import CAUSES, Finding, Report
from .record import Run, Session
from .remedies.attach import diagnose
from .rerun import sweep

__version__ = "0.1.0"


def load_ipython_extension(ipython: object) -> None:
    """``%load_ext stallmagic``: adds ``%%diagnose_fit`` and ``%stall`` (IPython is imported only now)."""
    from .notebook.magic import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: object) -> None:
    """``%unload_ext stallmagic``: removes the magics and detaches the panels."""
    from .notebook.magic import unload_ipython_extension as unload

    unload(ipython)


__all__ = [
    "CAUSES", "Finding", "Report", "Run", "Session", "__version__", "capture", "diagnose",
    "load_ipython_extension", "sweep", "unload_ipython_extension",
]  # fmt: skip
