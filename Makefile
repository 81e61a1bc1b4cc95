# The README's two commands. Each sets up its own virtual environment (.venv) from nothing and reuses it after.
#   make demo   train a stuck model on bundled data and show the diagnosis
#   make test   lint and run the whole test suite
#   make test-torch   the torch-backend tests, in their own environment (.venv-torch: torch brings ~2.9 GB of CUDA
#                     libraries from the package registry, too heavy for make test's CI budget)
#   make test-jax     stallmagic without TensorFlow (.venv-jax, installed as the README's "Without TensorFlow" says) on
#                     the JAX backend: tests/test_without_tensorflow.py there, with TensorFlow really absent
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.stallmagic-installed
VENV_TORCH ?= .venv-torch
TORCH_STAMP := $(VENV_TORCH)/.stallmagic-installed
VENV_JAX ?= .venv-jax
JAX_STAMP := $(VENV_JAX)/.stallmagic-installed
# stallmagic's requirements without TensorFlow, with the jax extra, read from the installed package's metadata (so
# from pyproject.toml): the README's "Without TensorFlow" runs the same line (tests/test_without_tensorflow.py checks).
WITHOUT_TF := from importlib.metadata import requires; print(*(r.partition(";")[0].strip() for r in requires("stallmagic") if r.partition(";")[2].strip() in ("", "extra == \"jax\"") and not r.startswith("tensorflow")), sep="\n")

.PHONY: demo test test-torch test-jax lab lint bench clean

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

$(JAX_STAMP): pyproject.toml .ci/constraints.txt
	$(PYTHON) -m venv $(VENV_JAX)
	$(VENV_JAX)/bin/python -m pip install --quiet --upgrade pip
	$(VENV_JAX)/bin/python -m pip install --quiet --no-deps -e .
	$(VENV_JAX)/bin/python -c '$(WITHOUT_TF)' > $(VENV_JAX)/requirements.txt
	$(VENV_JAX)/bin/python -m pip install --quiet -c .ci/constraints.txt -r $(VENV_JAX)/requirements.txt pytest
	touch $(JAX_STAMP)

# Without TensorFlow: the test that make test runs with an import blocker, here in an environment that never had it.
test-jax: $(JAX_STAMP)
	@$(VENV_JAX)/bin/python -c 'import importlib.util as u, sys; sys.exit(u.find_spec("tensorflow") and \
		"$(VENV_JAX) has TensorFlow, so this would not test an install without it: make clean, then make test-jax")'
	$(VENV_JAX)/bin/python -m pytest -q tests/test_without_tensorflow.py

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
	rm -rf $(VENV) $(VENV_TORCH) $(VENV_JAX) .pytest_cache .ruff_cache
