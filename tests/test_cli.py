"""``python -m stallmagic demo``: a report path that cannot be written is refused before any training."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("report", "reason"),
    [("no-such-folder/x.html", "does not exist"), ("report.txt", "must end in .html, .json or .md")],
)
def test_demo_refuses_an_unwritable_report_path_before_training(tmp_path, report, reason):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run(
        [sys.executable, "-m", "stallmagic", "demo", "--epochs", "1", "--no-rerun", "--report", str(tmp_path / report)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert out.returncode == 2, out.stderr[-2000:]
    assert "Training" not in out.stdout  # refused before the fit, not after it
    message = out.stderr.strip().splitlines()[-1]
    assert message.startswith("stallmagic demo: error: --report: Cannot export to") and reason in message
    assert "Traceback" not in out.stderr
    assert list(tmp_path.iterdir()) == []
