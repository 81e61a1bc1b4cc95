"""What ships and what Binder installs stay in step with ``pyproject.toml``.

Binder installs ``binder/requirements.txt`` and then stallmagic without its dependencies (``binder/postBuild``), so a
dependency added to ``pyproject.toml`` but not there breaks the demo on mybinder.org only, where no test runs. And
a wheel carries the package's non-Python files only where ``[tool.setuptools.package-data]`` names them, while the
editable install every test uses reads them from the checkout: a missing pattern breaks installed copies only.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+ (CI runs 3.11)

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].strip().lower().replace("_", "-")


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[_name(name)] = version.strip()
    return pins


def test_binder_installs_every_dependency_at_the_tested_version():
    binder = _pins(ROOT / "binder" / "requirements.txt")
    tested = _pins(ROOT / ".ci" / "constraints.txt")
    for requirement in PYPROJECT["project"]["dependencies"]:
        name = _name(requirement)
        on_binder = "tensorflow-cpu" if name == "tensorflow" else name  # Binder's CPU-only build of the same release
        assert on_binder in binder, f"binder/requirements.txt lacks {on_binder} ({requirement} in pyproject.toml)"
        if name in tested:
            assert binder[on_binder] == tested[name], (name, binder[on_binder], tested[name])


def test_every_non_python_file_of_the_package_ships_in_the_wheel():
    patterns = PYPROJECT["tool"]["setuptools"].get("package-data", {}).get("stallmagic", [])
    package = ROOT / "stallmagic"
    files = [p.relative_to(package).as_posix() for p in package.rglob("*") if p.is_file()]
    data = [f for f in files if not f.endswith((".py", ".pyc")) and "__pycache__" not in f]
    assert data, "the package has no data file: this test checks nothing (remove it, or it is looking elsewhere)"
    missing = [f for f in data if not any(fnmatch.fnmatch(f, pattern) for pattern in patterns)]
    assert missing == [], f"not in [tool.setuptools.package-data] of pyproject.toml, so not in the wheel: {missing}"


def test_the_license_is_an_spdx_string_the_build_backend_keeps_reading():
    # setuptools deprecated `license = { text = ... }` (a table) for an SPDX expression (PEP 639) and stops building
    # projects that use the table after 2027-02-18; the string needs setuptools 77 or later to build
    assert isinstance(PYPROJECT["project"]["license"], str), "project.license must be an SPDX string, not a table"
    floor = next(r for r in PYPROJECT["build-system"]["requires"] if _name(r) == "setuptools")
    assert tuple(int(p) for p in floor.split(">=")[1].split(".")) >= (77,), floor
