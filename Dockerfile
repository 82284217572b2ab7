# syntax=docker/dockerfile:1
# Four images from one file: `bot` (discord.py + Celery client, no TensorFlow),
# `worker` (generation: numba sampler, music21, FluidSynth, ffmpeg, optional
# LilyPond; no TensorFlow: it reads the bundles' weights.npz), `trainer` (the
# same plus TensorFlow, for retraining on the CPU) and `trainer-gpu` (torch with
# CUDA instead of TensorFlow, KERAS_BACKEND=torch):
#   docker build --target trainer-gpu -t lstmuse-trainer-gpu .
# Build stages hold the compilers; runtime stages get only the virtualenv.

ARG PYTHON=python:3.11-slim-bookworm
ARG CUDA_BASE=nvidia/cuda:13.0.0-base-ubuntu24.04

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
RUN pip install ".[worker]"

FROM build-base AS build-trainer
RUN pip install ".[trainer]"

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

# What generation and CPU training workers share: the renderers' system libraries,
# the code, the committed models and the folders they write.
FROM runtime-base AS worker-base
ARG WITH_LILYPOND=no
RUN apt-get update && apt-get install -y --no-install-recommends \
        ffmpeg libfluidsynth3 fluid-soundfont-gm \
    && if [ "$WITH_LILYPOND" = "yes" ]; then apt-get install -y --no-install-recommends lilypond; fi \
    && rm -rf /var/lib/apt/lists/*
COPY lstmuse_core ./lstmuse_core
COPY worker ./worker
COPY trained_models ./trained_models
RUN mkdir -p /app/uploads /app/artifacts /home/lstmuse/.cache/lstmuse \
    && chown -R lstmuse /app/uploads /app/artifacts /app/trained_models /home/lstmuse/.cache

# The generation worker: no TensorFlow.
FROM worker-base AS worker
COPY --from=build-worker /opt/venv /opt/venv
USER lstmuse
# Compile the sampling loop into numba's cache (~/.cache/numba) at build time, not in
# the first job of every container.
RUN python -c "from lstmuse_core.model.generate import compile_sampler; compile_sampler()"
CMD ["celery", "-A", "worker.app", "worker", "-Q", "generate", "-l", "info"]

# The CPU training worker: the generation worker's files plus TensorFlow.
FROM worker-base AS trainer
COPY --from=build-trainer /opt/venv /opt/venv
USER lstmuse
RUN python -c "from lstmuse_core.model.generate import compile_sampler; compile_sampler()"
CMD ["celery", "-A", "worker.app", "worker", "-Q", "train", "-c", "1", "--prefetch-multiplier", "1", "-l", "info"]

# The GPU training worker. torch's PyPI wheels carry their own CUDA and cuDNN user-space
# libraries; the base image must be a CUDA release the wheels support (torch
# 2.11: CUDA 13.0, check with `python -c "import torch; print(torch.version.cuda)"`)
# and the host needs the NVIDIA driver and nvidia-container-toolkit. Ubuntu
# 24.04's Python is 3.12, so this image builds its own virtualenv.
FROM ${CUDA_BASE} AS trainer-gpu
RUN apt-get update && apt-get install -y --no-install-recommends \
        python3 python3-venv ffmpeg libfluidsynth3 fluid-soundfont-gm \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 lstmuse
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 KERAS_BACKEND=torch
WORKDIR /app
COPY pyproject.toml README.md ./
COPY lstmuse_core ./lstmuse_core
COPY worker ./worker
COPY bot ./bot
RUN python3 -m venv /opt/venv && pip install ".[trainer-gpu]"
COPY trained_models ./trained_models
RUN mkdir -p /app/uploads /app/artifacts /home/lstmuse/.cache/lstmuse \
    && chown -R lstmuse /app/uploads /app/artifacts /app/trained_models /home/lstmuse/.cache
USER lstmuse
CMD ["celery", "-A", "worker.app", "worker", "-Q", "train", "-c", "1", "--prefetch-multiplier", "1", "-l", "info"]
