"""Tune schedulers and search algorithms by name, for a sweep asked for in words (``%stall sweep --engine ray
--scheduler asha --search optuna``): the name becomes the Tune object :func:`~.sweep.sweep` takes, set up for the
run being swept.

Why here and not in the notebook layer: what "asha" means for a run (a trial's budget is its epochs) is the sweep's
business, and the refusals (Ray or Optuna missing) are :class:`~stallmagic.remedies.RemedyError` sentences like the
Ray engine's own. Imports Ray and Optuna only inside functions.
"""

from __future__ import annotations

from typing import Any

from ..record import Run
from ..remedies import RemedyError
from .ledger import root_of
from .plan import recorded_seed

#: The schedulers a sweep can be asked for by name: ASHA stops the trials that fall behind at each rung.
SCHEDULERS = ("asha",)
#: The search algorithms a sweep can be asked for by name: Optuna (through Tune's ``OptunaSearch``) suggests each
#: trial's configuration from the results so far.
SEARCHES = ("optuna",)


def named_ray_options(
    run: Run, *, scheduler: str | None = None, search: str | None = None, samples: int | None = None
) -> dict:
    """``sweep``'s Ray keyword arguments (``scheduler``, ``search_alg``, ``num_samples``) from names.

    Args:
        run: The run to sweep: ASHA's budget is its epochs (each epoch is one report), Optuna's seed its seed (the
            user's, else 0), so the same line suggests the same configurations again.
        scheduler: ``"asha"`` (``ASHAScheduler(max_t=epochs, grace_period=1)``) or ``None``.
        search: ``"optuna"`` (``OptunaSearch(seed=...)``) or ``None``.
        samples: How many configurations the search algorithm suggests (default: the grid's size).

    Raises:
        RemedyError: An unknown name, or Ray (or Optuna) not installed, in one sentence saying what to install.
    """
    from .sweep_ray import IN_PROCESS, require_ray

    options: dict[str, Any] = {}
    if scheduler is not None:
        _known("scheduler", scheduler, SCHEDULERS)
        require_ray()
        from ray.tune.schedulers import ASHAScheduler

        options["scheduler"] = ASHAScheduler(max_t=max(1, int(run.fit.epochs or 1)), grace_period=1)
    if search is not None:
        _known("search", search, SEARCHES)
        require_ray()
        try:
            import optuna  # noqa: F401
        except ImportError:
            raise RemedyError(
                f"search='optuna' needs Optuna, which cannot be imported here: pip install optuna, or {IN_PROCESS} "
                "(every configuration of the grid)."
            ) from None
        from ray.tune.search.optuna import OptunaSearch

        options["search_alg"] = OptunaSearch(seed=recorded_seed(root_of(run)))
        options["num_samples"] = samples
    return options


def _known(what: str, name: str, allowed: tuple[str, ...]) -> None:
    if name not in allowed:
        raise RemedyError(
            f"The '{what}' name of sweep must be one of {', '.join(map(repr, allowed))}. Got {name!r} instead."
        )


__all__ = ["SCHEDULERS", "SEARCHES", "named_ray_options"]
