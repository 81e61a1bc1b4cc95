"""The batch-size remedy keeps each batch divisible by the replicas of a fit on several devices (pure: records only).

A fit under a ``tf.distribute`` strategy or a Keras distribution splits every batch evenly across its replicas
(Keras's JAX data parallelism refuses one that does not divide), so the suggested size is a multiple of
``run.fit.replicas``; the reruns themselves are tested on two real devices in ``tests/test_distributed.py``.
"""

from __future__ import annotations

import pytest

from stallmagic.diagnosis.report import Finding
from stallmagic.record import FitRecord, Run
from stallmagic.remedies import suggest


def _run(replicas: int, batch_size: int = 400) -> Run:
    fit = FitRecord(batch_size=batch_size, epochs=5, n_train=400, steps_per_epoch=1, replicas=replicas,
                    distribution="MirroredStrategy" if replicas > 1 else None)  # fmt: skip
    return Run(index=0, label="r", fit=fit)


def _suggested(run: Run) -> tuple[int, str]:
    finding = Finding("batch_size", "batch_size", "advice", {"batch_size": run.fit.batch_size, "n_train": 400}, 0.8)
    remedy = suggest(finding, run, None)[0]
    return remedy.params["batch_size"], remedy.evidence["basis"]


@pytest.mark.parametrize("replicas", [1, 2, 4, 8])
def test_a_power_of_two_already_divides_and_is_kept(replicas):
    size, basis = _suggested(_run(replicas))
    assert size == 16 and "replicas" not in basis


@pytest.mark.parametrize("replicas, expected", [(3, 15), (5, 15), (6, 18), (32, 32)])
def test_the_size_is_rounded_to_a_multiple_of_the_replicas(replicas, expected):
    size, basis = _suggested(_run(replicas))
    assert size == expected and size % replicas == 0
    assert f"a multiple of the fit's {replicas} replicas" in basis


def test_tiny_batches_become_a_multiple_of_the_replicas_too():
    size, _ = _suggested(_run(3, batch_size=2))
    assert size == 33 and size % 3 == 0
