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

# The full stack without Docker: Redis with an append-only file (started if none
# answers), one worker a queue (each queue has its own redelivery timeout) in the
# background, each started again if it exits with an error (.ci/keep-running), then
# the bot (Discord with a DISCORD_TOKEN, else the console) talking to them through Redis.
REDIS_URL ?= redis://127.0.0.1:6379/0
WORKER := LSTMUSE_REDIS_URL=$(REDIS_URL) OPENBLAS_NUM_THREADS=1 .ci/keep-running
CELERY := $(BIN)/celery -A worker.app worker --prefetch-multiplier 1 -l info
stack: $(STAMP)
	.ci/ensure-redis --persistent
	$(WORKER) worker-generate.log $(CELERY) -Q generate -c 2 -n generate@%h & \
		echo $$! > worker-generate.pid
	$(WORKER) worker-train.log $(CELERY) -Q train -c 1 -n train@%h & \
		echo $$! > worker-train.pid
	LSTMUSE_REDIS_URL=$(REDIS_URL) $(BIN)/lstmuse-bot; \
		kill $$(cat worker-generate.pid) $$(cat worker-train.pid) 2>/dev/null || true
