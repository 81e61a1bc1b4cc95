"""The notebook layer, kept thin: the ``%%diagnose_fit`` and ``%stall`` magics and the live panel.

IPython and ipywidgets are imported here only; everything the buttons do calls the engines in
:mod:`stallmagic.capture`, :mod:`stallmagic.diagnosis` and :mod:`stallmagic.rerun`.
"""
