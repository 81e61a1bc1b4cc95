"""The rerun engine: train again from a run's starting weights with one change, and compare.

The modules, in the order a rerun uses them:

* :mod:`.plan`: the :class:`~.plan.Baseline` of the original run and the :class:`~.plan.Plan` remedies change;
  :mod:`.data` holds the array helpers remedies that change data use (never mutating the user's arrays).
* :mod:`.surgery`: the plan's model changes, in place or by rebuilding the model;
  :mod:`.training`: fresh callbacks, optimizer and compile.
* :mod:`.engine`: :func:`rerun` (one rerun, carried out by a job object) and :func:`restore`.
* :mod:`.ledger`: what the engine keeps in memory between reruns (live models, starting points, final weights,
  edits), with its lifetime; :func:`release` drops a run's share, and only the :func:`set_keep_reruns` most
  recently used reruns keep their models and weights.
* :mod:`.compare`: :func:`compare` and the :class:`Comparison` rows; :mod:`.sweep`: :func:`sweep` over a grid,
  its arguments read by :mod:`.sweep_arguments`, its trials' live progress (``on_epoch``) in :mod:`.sweep_progress`;
  ``engine="ray"`` runs it as Ray Tune trials (:mod:`.sweep_ray` and its Tune hooks :mod:`.ray_collector` in this
  process, :mod:`.ray_trial` in each Ray worker; imported only then; schedulers and searchers by name in
  :mod:`.ray_options`).
* :mod:`.repair`: :func:`repair`, "find a fix": remedies tried as reruns, the helpful ones stacked;
  :mod:`.lr_range`: the learning-rate range test a measured learning-rate remedy runs first.

``stallmagic.rerun.compare`` and ``stallmagic.rerun.sweep`` name the functions (re-exported below), not the
modules: import from the modules with ``from stallmagic.rerun.sweep import ...``.
"""

from __future__ import annotations

from .compare import Comparison, compare, trained_alike
from .engine import RerunWarning, rerun, restore
from .ledger import DEFAULT_KEEP_RERUNS, final_weights, release, root_of, set_keep_reruns
from .repair import RepairResult, repair
from .sweep import SweepResult, sweep

__all__ = [
    "DEFAULT_KEEP_RERUNS", "Comparison", "RepairResult", "RerunWarning", "SweepResult", "compare", "final_weights",
    "release", "repair", "rerun", "restore", "root_of", "set_keep_reruns", "sweep", "trained_alike",
]  # fmt: skip
