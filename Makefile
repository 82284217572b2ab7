# The two commands of the README, and the pieces they share.
#   make run   - set everything up, then generate a folk melody (MIDI, MP3, PNG) into out/
#   make test  - set everything up, then run the whole test suite
# Set-up installs Debian packages when run as root (apt-get), creates .venv
# and installs the project with its dev extras; it is skipped when done.

VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint setup system-packages

run: $(STAMP)
	$(BIN)/lstmuse generate --style folk --bars 16 --temperature 0.9 --out out

test: $(STAMP)
	.ci/ensure-redis
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

setup: $(STAMP)

system-packages:
	.ci/install-system-packages

$(STAMP): pyproject.toml
	.ci/install-system-packages
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)
