"""Make ``tests/scenarios.py`` importable from the diagnosis tests."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
