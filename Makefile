# The two commands of the README, and the pieces they share.
#   make run   - set everything up, then start the console front end (the bot's
#                commands at a prompt; jobs in-process; files in out/)
#   make test  - set everything up, then run the whole test suite
# Set-up installs Debian packages when run as root (apt-get), creates .venv
# and installs the project with its dev extras; it is skipped when done.

VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint setup system-packages stack

run: $(STAMP)
	$(BIN)/lstmuse-bot --console --out out

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

# The full stack without Docker: Redis (started if none answers), one worker
# serving both queues in the background, then the bot (Discord with a
# DISCORD_TOKEN, else the console) talking to it through Redis.
REDIS_URL ?= redis://127.0.0.1:6379/0
stack: $(STAMP)
	.ci/ensure-redis
	LSTMUSE_REDIS_URL=$(REDIS_URL) OPENBLAS_NUM_THREADS=1 $(BIN)/celery -A worker.app worker -Q generate,train -c 2 \
		--prefetch-multiplier 1 -l info --detach --logfile=worker.log --pidfile=worker.pid
	LSTMUSE_REDIS_URL=$(REDIS_URL) $(BIN)/lstmuse-bot; \
		kill $$(cat worker.pid) 2>/dev/null || true
