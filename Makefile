# Two set-up-to-result commands: `make demo` and `make test`.
# Both create .venv when it is missing and install the project into it.
PYTHON ?= python3
VENV ?= .venv
# The CPU build of torch that lies on this machine's disk. GPU users:
#   make test TORCH_SPEC='torch==2.5.1'   (or any build you already use)
TORCH_SPEC ?= torch==2.13.0
OPENMIM_SPEC ?= openmim==0.3.9
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.img_mmaction-installed

.PHONY: demo test test-fast lint install clean-venv

$(STAMP): setup.py requirements.txt requirements/mim.txt requirements/tests.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q '$(TORCH_SPEC)'
	$(PIP) install -q -e '.[mim,tests]'
	$(PIP) install -q --no-deps '$(OPENMIM_SPEC)'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) -m img_mmaction.demo.run

# MMAction2's lint settings (setup.cfg): flake8, isort, yapf.
LINT_PATHS := img_mmaction tests tools configs benchmarks setup.py
lint: $(STAMP)
	$(VENV)/bin/flake8 $(LINT_PATHS)
	$(VENV)/bin/isort --check-only --diff $(LINT_PATHS)
	$(VENV)/bin/yapf --diff --recursive $(LINT_PATHS)

test: lint
	$(PY) -m pytest tests

# Without the subprocess end-to-end tests (mim, torchrun, pip).
test-fast: $(STAMP)
	$(PY) -m pytest tests -m "not slow"

clean-venv:
	rm -rf $(VENV)

# The prepared GPU check (docs/gpu.md): installs the wheels of wheels/ into a
# temporary path, runs the CUDA tests and the GPU benchmark, writes
# gpu_check.json and gpu_check.log to $OUT (else gpu_check_out/). No venv:
# the device has its own torch and no registry. Without CUDA: CPU fallback.
.PHONY: gpu-check
gpu-check:
	bash tools/gpu/check.sh

# The paper's ablation variants on the motion benchmark, 3 seeds each, through
# mim (docs/evidence.md); about 40 minutes on 2 CPU cores. EVIDENCE_ARGS
# passes options, e.g. EVIDENCE_ARGS="--epochs 16 --tag 16-epochs".
.PHONY: evidence
evidence: $(STAMP)
	$(PY) -m img_mmaction.analysis.motion_ablation $(EVIDENCE_ARGS)
