"""The notebook layer, kept thin: the ``%%diagnose_fit`` and ``%stall`` magics and the views they show.

:mod:`.magic` (the IPython magics) runs a cell through :mod:`.execute` and hands its runs to :mod:`.cell`
(:class:`~.cell.CellRuns`: one cell's runs and every action on them, no IPython, no widgets), shown by
:mod:`.panel` (ipywidgets, redraws paced by :mod:`.throttle`) or :mod:`.text` (a terminal). IPython and
ipywidgets are imported in this package only; everything the buttons do calls the engines in
:mod:`stallmagic.capture`, :mod:`stallmagic.diagnosis` and :mod:`stallmagic.rerun`.
"""
