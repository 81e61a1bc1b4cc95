"""A fit on several worker processes offers its rerun remedies disabled, saying why (pure: records only).

Each training step under a ``MultiWorkerMirroredStrategy`` cluster waits for every worker, and a rerun (a panel
click, ``run.rerun``) starts in one process only; the engine's refusal is tested on two real worker processes in
``tests/test_distributed.py``.
"""

from __future__ import annotations

import pytest

from stallmagic.diagnosis.report import Finding
from stallmagic.record import FitRecord, Run
from stallmagic.remedies import suggest


def _remedies(workers: int) -> list:
    fit = FitRecord(batch_size=400, epochs=5, n_train=400, steps_per_epoch=1, replicas=2, workers=workers,
                    distribution="MultiWorkerMirroredStrategy")  # fmt: skip
    finding = Finding("batch_size", "batch_size", "advice", {"batch_size": 400, "n_train": 400}, 0.8)
    return [r for r in suggest(finding, Run(index=0, label="r", fit=fit), None) if r.kind == "rerun"]


@pytest.mark.parametrize("workers", [2, 3])
def test_every_rerun_remedy_of_a_fit_on_several_workers_is_disabled_with_the_reason(workers):
    remedies = _remedies(workers)
    assert remedies and not any(r.enabled for r in remedies)
    for remedy in remedies:
        assert remedy.disabled_reason.startswith(
            f"This fit trained on {workers} worker processes of a MultiWorkerMirroredStrategy"
        )
        assert remedy.disabled_reason.endswith("put the fix in the script every worker runs.")


def test_one_worker_with_two_devices_keeps_its_remedies():
    assert any(r.enabled for r in _remedies(1))
