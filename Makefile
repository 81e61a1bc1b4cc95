# The README's two commands. Each sets up its own virtual environment (.venv) from nothing and reuses it after.
#   make demo   train a stuck model on bundled data and show the diagnosis
#   make test   lint and run the whole test suite
#   make test-torch   the torch-backend tests, in their own environment (.venv-torch: torch brings ~2.9 GB of CUDA
#                     libraries from the package registry, too heavy for make test's CI budget)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.stallmagic-installed
VENV_TORCH ?= .venv-torch
TORCH_STAMP := $(VENV_TORCH)/.stallmagic-installed

.PHONY: demo test test-torch lab lint bench clean

# The browser test drives Debian's Chromium (never a downloaded one): installed with apt when missing (as root, or
# through sudo). Without it tests/browser fails and says what to run.
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
		--no-install-recommends chromium chromium-driver

$(STAMP): pyproject.toml .ci/constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c .ci/constraints.txt -e ".[test]"
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (ipykernel)"
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m stallmagic demo

test: $(STAMP) $(CHROMIUM)
	$(VENV)/bin/ruff check stallmagic tests bench
	$(PY) -m pytest -q tests

$(TORCH_STAMP): pyproject.toml .ci/constraints.txt
	$(PYTHON) -m venv $(VENV_TORCH)
	$(VENV_TORCH)/bin/python -m pip install --quiet --upgrade pip
	$(VENV_TORCH)/bin/python -m pip install --quiet -c .ci/constraints.txt -e ".[test,torch]"
	touch $(TORCH_STAMP)

# The torch backend: capture, diagnosis and rerun (tests/test_torch.py) and the probe's figures against TensorFlow's
# (tests/diagnosis/test_probe_backends.py). Under make test these skip, torch not being installed there.
test-torch: $(TORCH_STAMP)
	$(VENV_TORCH)/bin/python -m pytest -q tests/test_torch.py tests/diagnosis/test_probe_backends.py

lab: $(STAMP)
	$(PY) -m jupyter lab notebooks/quickstart.ipynb

bench: $(STAMP)
	$(PY) -m pip install --quiet -c .ci/constraints.txt -e ".[bench]"
	$(PY) bench/overhead.py
	$(PY) bench/panel.py
	$(PY) bench/anchors.py
	$(PY) bench/diagnosis.py
	$(PY) bench/rerun.py
	$(PY) bench/sweep.py
	$(PY) bench/probe_threads.py

clean:
	rm -rf $(VENV) $(VENV_TORCH) .pytest_cache .ruff_cache
