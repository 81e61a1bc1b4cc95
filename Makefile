# The README's two commands. Each sets up its own virtual environment (.venv) from nothing and reuses it after.
#   make demo   train a stuck model on bundled data and show the diagnosis
#   make test   lint and run the whole test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.stallmagic-installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml .ci/constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c .ci/constraints.txt -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m stallmagic demo

test: $(STAMP)
	$(VENV)/bin/ruff check stallmagic tests bench
	$(PY) -m pytest -q tests

bench: $(STAMP)
	$(PY) bench/overhead.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
