"""The scikit-learn probes run on one native thread: on a few hundred rows, next to TensorFlow's warm thread pools,
more threads cost time (bench/probe_threads.py measures it side by side)."""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_info

from stallmagic.diagnosis.signals import probes


def test_a_probe_sees_one_thread_in_every_native_pool_and_the_caller_gets_its_own_back():
    before = {p["filepath"]: p["num_threads"] for p in threadpool_info()}
    inside = probes.one_thread(threadpool_info)()
    assert inside and all(p["num_threads"] == 1 for p in inside), inside
    assert {p["filepath"]: p["num_threads"] for p in threadpool_info()} == before


def test_the_probes_the_diagnosis_calls_are_limited_and_still_answer():
    for fn in (probes.run_probe, probes.domain_auc, probes.run_elementwise_probe):
        assert getattr(fn, "__wrapped__", None) is not None, fn.__name__
    rng = np.random.default_rng(0)
    shift = probes.domain_auc(rng.normal(size=(200, 5)), rng.normal(size=(100, 5)) + 3.0)
    assert shift is not None and shift.auc > 0.95
