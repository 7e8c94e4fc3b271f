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

.PHONY: demo test install clean-venv

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

test: $(STAMP)
	$(PY) -m pytest tests

clean-venv:
	rm -rf $(VENV)
