"""The capture records where the user's code called ``fit`` (file, line and column of each calling frame, innermost
first), the positions a traceback shows, so that "Keep this fix" can edit that call and no other."""

from __future__ import annotations

import json

import keras
import numpy as np

import stallmagic
from stallmagic.record import Run
from stallmagic.remedies import Remedy
from stallmagic.remedies.source import FitSite, rewrite

CELL = (
    "def train(m):\n"
    "    return m.fit(x, y,\n"
    "                 epochs=1, verbose=0)\n"
    "\n"
    "é = 1; history = train(model)\n"
    "scaler = StandardScaler().fit(x)\n"
)


def test_each_fit_records_its_calling_frames_in_the_users_code(seed):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")

    class StandardScaler:  # what scikit-learn's would be to this cell: another object with a fit method
        def fit(self, x):
            return self

    namespace = {"model": model, "x": np.zeros((8, 4), "float32"), "y": np.zeros((8, 1), "float32"),
                 "StandardScaler": StandardScaler}  # fmt: skip
    with stallmagic.capture() as session:
        exec(compile(CELL, "<cell>", "exec"), namespace)
    (run,) = session.runs
    sites = run.extras["call_sites"]
    lines = CELL.splitlines()
    fit_line, end_line, call_line = lines[1], lines[2], lines[4].encode()  # Python counts columns in UTF-8 bytes
    assert sites[0] == {
        "file": "<cell>",
        "line": 2,
        "col": fit_line.index("m.fit"),
        "end_line": 3,
        "end_col": len(end_line),
    }
    start = len(call_line) - len("train(model)")
    assert sites[1] == {"file": "<cell>", "line": 5, "col": start, "end_line": 5, "end_col": len(call_line)}
    assert sites[2]["file"] == __file__ and len(sites) <= 8
    assert Run.from_dict(json.loads(json.dumps(run.to_dict()))).extras["call_sites"] == sites

    site = FitSite.from_frames(sites, file="<cell>", source=CELL)
    out = rewrite(Remedy("epochs", {"epochs": 5}), CELL, site=site).source
    assert "                 epochs=5, verbose=0)\n" in out and out.endswith("scaler = StandardScaler().fit(x)\n")
