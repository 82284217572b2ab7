# syntax=docker/dockerfile:1
# Two images from one file: `bot` (discord.py + Celery client, no TensorFlow)
# and `worker` (TensorFlow, music21, FluidSynth, ffmpeg, optional LilyPond).
# Build stages hold the compilers; runtime stages get only the virtualenv.

ARG PYTHON=python:3.11-slim-bookworm

FROM ${PYTHON} AS build-base
RUN apt-get update && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY lstmuse_core ./lstmuse_core
COPY worker ./worker
COPY bot ./bot

FROM build-base AS build-bot
RUN pip install ".[bot]"

FROM build-base AS build-worker
# WORKER_EXTRA=worker installs tensorflow-cpu; use a CUDA build for GPU hosts
# (e.g. --build-arg TF_PACKAGE="tensorflow[and-cuda]").
ARG TF_PACKAGE=""
RUN pip install ".[worker]" ${TF_PACKAGE:+"$TF_PACKAGE"}

FROM ${PYTHON} AS runtime-base
RUN useradd --create-home --uid 10001 lstmuse
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1
WORKDIR /app

FROM runtime-base AS bot
COPY --from=build-bot /opt/venv /opt/venv
COPY bot ./bot
COPY worker ./worker
COPY lstmuse_core ./lstmuse_core
USER lstmuse
CMD ["lstmuse-bot"]

FROM runtime-base AS worker
ARG WITH_LILYPOND=no
RUN apt-get update && apt-get install -y --no-install-recommends \
        ffmpeg libfluidsynth3 fluid-soundfont-gm \
    && if [ "$WITH_LILYPOND" = "yes" ]; then apt-get install -y --no-install-recommends lilypond; fi \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build-worker /opt/venv /opt/venv
COPY lstmuse_core ./lstmuse_core
COPY worker ./worker
COPY trained_models ./trained_models
RUN mkdir -p /app/uploads /app/artifacts /home/lstmuse/.cache/lstmuse \
    && chown -R lstmuse /app/uploads /app/artifacts /app/trained_models /home/lstmuse/.cache
USER lstmuse
CMD ["celery", "-A", "worker.app", "worker", "-Q", "generate", "-l", "info"]
