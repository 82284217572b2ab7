"""LSTMuse core: the music data pipeline, the LSTM, sampling and rendering.

The public API for researchers and the worker::

    from lstmuse_core import Meter, load_generator, write_midi
    generator = load_generator("folk")  # by style name; a folder: load_generator_from_path
    melodies = generator.sample(n=64, bars=8, temperature=0.8, seed=1, meter=Meter(6, 8))
    write_midi(melodies[0].symbols, "melody.mid", meter=melodies[0].meter)

Names are imported on first use, so ``import lstmuse_core`` stays cheap (the
bot imports the request type without pulling in Keras or music21).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "load_generator": "lstmuse_core.model.generate",
    "load_generator_from_path": "lstmuse_core.model.generate",
    "MelodyGenerator": "lstmuse_core.model.generate",
    "Meter": "lstmuse_core.music.meter",
    "write_midi": "lstmuse_core.music.midi",
    "melody_to_midi": "lstmuse_core.music.midi",
    "melody_from_midi": "lstmuse_core.music.midi",
    "parse_seed_melody": "lstmuse_core.music.seed_melody",
    "MelodyRequest": "lstmuse_core.request",
    "compose": "lstmuse_core.compose",
    "build_dataset": "lstmuse_core.music.dataset",
    "train_style": "lstmuse_core.model.train",
    "evaluate_bundle": "lstmuse_core.model.evaluate",
    "render_melody": "lstmuse_core.music.render",
    "LstmuseError": "lstmuse_core.errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'lstmuse_core' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
