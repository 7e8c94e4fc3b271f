# Two set-up-to-result commands: `make demo` and `make test`.
# Both create .venv when it is missing and install the project into it.
PYTHON ?= python3
VENV ?= .venv
# The CPU build of torch 2.13.0 (a plain `torch` would pull a CUDA build of
# several GB). GPU users: make test TORCH_SPEC='torch==2.5.1' (or any build
# their CUDA supports).
TORCH_SPEC ?= torch==2.13.0
OPENMIM_SPEC ?= openmim==0.3.9
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.img_mmaction-installed

.PHONY: demo test test-fast lint install clean-venv

$(STAMP): setup.py requirements.txt requirements/*.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q '$(TORCH_SPEC)'
	$(PIP) install -q -e '.[mim,tests]'
	$(PIP) install -q --no-deps '$(OPENMIM_SPEC)'
	# mim looks for a package's tools and recipes in <site-packages>/<name>
	# (mim's get_installed_path), which an editable install does not create:
	# link it to the clone's package (docs/compat.md, "Editable installs").
	ln -sfn "$(CURDIR)/img_mmaction" \
	    "$$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/img_mmaction"
	touch $(STAMP)

install: $(STAMP)

# DEMO_ARGS passes options to the demo, e.g. DEMO_ARGS="--epochs 1".
demo: $(STAMP)
	$(PY) -m img_mmaction.demo.run $(DEMO_ARGS)

# MMAction2's lint settings (setup.cfg): flake8, isort, yapf.
LINT_PATHS := img_mmaction benchmarks tests tools configs setup.py
lint: $(STAMP)
	$(VENV)/bin/flake8 $(LINT_PATHS)
	$(VENV)/bin/isort --check-only --diff $(LINT_PATHS)
	$(VENV)/bin/yapf --diff --recursive $(LINT_PATHS)

# The suite's files run in parallel, one worker per CPU (pytest-xdist); the
# tests of one file stay in order on one worker (the docs harness shares its
# workspace between pages). PYTEST_WORKERS=0: all in one process.
PYTEST_WORKERS ?= auto
test: lint
	$(PY) -m pytest tests -n $(PYTEST_WORKERS) --dist loadfile

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
	bash benchmarks/gpu/check.sh

# The paper's ablation variants on the motion benchmark, 3 seeds each, through
# mim (docs/evidence.md, with the records' wall times). EVIDENCE_ARGS passes
# options, e.g. EVIDENCE_ARGS="--epochs 16 --tag 16-epochs".
.PHONY: evidence
evidence: $(STAMP)
	$(PY) -m benchmarks.evidence.motion_ablation $(EVIDENCE_ARGS)
