# Two entry points: `make run` (install, then run the bot on its embedded default)
# and `make test` (install, then run the whole test suite). Both create .venv when missing.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test install bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# The pinned CPU wheel first: an unpinned torch would pull a CUDA build of several GB.
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PY) -m bot run

test: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) bench/rouge.py --data ../shared/bench/news_dev.jsonl

clean:
	rm -rf $(VENV) build *.egg-info
