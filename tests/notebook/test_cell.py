"""``CellRuns`` on its own, without IPython: what a cell's actions say when they cannot run.

Its actions on live models are tested through the magics in ``test_magic.py``.
"""

from __future__ import annotations

import pytest

from stallmagic.notebook.cell import RELEASED, CellRuns
from stallmagic.record import Run
from stallmagic.remedies import RemedyError


def a_cell_with_one_run() -> tuple[CellRuns, Run]:
    cell = CellRuns(number=1, line="", source="model.fit(x, y)\n", label=None, metric=None)
    run = cell.session.add(Run(index=0, label="run 1"))
    return cell, run


class Unprintable(Exception):
    def __str__(self):
        raise RuntimeError("this exception cannot be printed")


def test_a_diagnosis_that_fails_with_an_unprintable_exception_is_one_problem_line():
    """Beyond the list (issue 12): the problem line quoted the exception with str(), so an exception whose __str__
    raises escaped CellRuns.diagnose, which promises None and a line in ``problems``."""
    cell, run = a_cell_with_one_run()

    def diagnose(metric=None):
        raise Unprintable()

    run.diagnose = diagnose  # what a probe of the user's model raising would end in
    assert cell.diagnose(run) is None
    assert cell.problems == ["The diagnosis of run 1 failed (Unprintable: <Unprintable object>)."]


def test_a_released_cell_refuses_reruns_with_the_reason_it_was_given():
    """Issue 12, item 15: a released cell raised a RuntimeError that did not say which setting keeps more cells."""
    cell, run = a_cell_with_one_run()
    cell.release(reason="its cell was released (keep_cells keeps more)")
    for action in (lambda: cell.rerun(run, None), lambda: cell.repair(run), lambda: cell.sweep(run)):
        with pytest.raises(RemedyError) as caught:
            action()
        assert str(caught.value) == "run 1 cannot be rerun: its cell was released (keep_cells keeps more)."
    with pytest.raises(RemedyError) as caught:
        run.rerun()  # the run itself says the same
    assert str(caught.value) == "run 1 cannot be rerun: its cell was released (keep_cells keeps more)."
    bare, bare_run = a_cell_with_one_run()
    bare.release()
    with pytest.raises(RemedyError, match=RELEASED):
        bare.rerun(bare_run, None)
