"""Every limit, once: what a member may ask, and what the library can do.

Two kinds of bound live here, under distinct names:

- **request limits** (no prefix): what anyone may ask for through a front
  end (Discord, the console, the CLI, a queued job). They bound what one
  request may cost in time and file size, so they are the tighter ones, and
  every help text and option range is built from them;
- **library capacity** (``SAMPLER_``, ``TRAINER_``, ``MIDI_READ_``): what
  the sampler, the trainer and the MIDI reader accept when called directly
  (the Python API, the bench, research scripts). They only guard against
  nonsense that would exhaust memory or never finish, so they are wider.

A request that passes its limits always fits the library's capacity (a test
checks each pair). Importing this module costs nothing: it imports nothing.
"""

from __future__ import annotations

# --- request limits: what a member may ask ------------------------------------------------

MIN_TEMPERATURE, MAX_TEMPERATURE = 0.1, 2.0  # past 2 a melody is noise, below 0.1 a loop
MAX_TOP_K = 1000  # 0 turns top-k off
MIN_TOP_P = 0.01  # up to 1 (off); below 1% of the mass only the likeliest symbol is left
MAX_COUNT = 4  # melodies per request
MAX_BARS = 64  # bars after the seed; also the most seed bars kept (seed_bars)
# Every melody is at most MAX_TOTAL_STEPS 16th notes, seed included (64 bars
# of 4/4): the sampling time and the files a request costs grow with it.
MAX_TOTAL_STEPS = 1024
DEFAULT_STEPS = 512  # new 16th notes at most when neither bars nor steps is given
MAX_SEED_STEPS = 512  # a seed melody, typed or read from a file: a start, not a whole song
MAX_RANDOM_SEED = 2**31 - 1  # what every numpy and Keras seed accepts
MIN_BPM, MAX_BPM = 20.0, 300.0  # also the renderer's: a MIDI tempo is clamped into it
MIN_OCTAVE, MAX_OCTAVE = -2, 2  # octaves from the instrument's comfortable register
MAX_AUDIO_SECONDS = 360.0  # audio per melody, its tail included
MAX_RETRAIN_EPOCHS = 1000  # an admin's retrain: hours on a CPU, never days
MIN_RETRAIN_MINUTES, MAX_RETRAIN_MINUTES = 0.1, 24 * 60.0
# lstmuse_core.model.PRESETS, without Keras
RETRAIN_PRESETS = ("default", "seed", "tiny", "chorale")

# --- library capacity: what the sampler, trainer and MIDI reader can do --------------------

# The sampler's longest melody, seed included; its state and outputs are
# allocated for it up front. Four times a request's MAX_TOTAL_STEPS.
SAMPLER_MAX_STEPS = 4096
# Temperatures the sampler computes without overflow or a flat distribution;
# wider than a request's range, for research on the model's calibration.
SAMPLER_MIN_TEMPERATURE, SAMPLER_MAX_TEMPERATURE = 0.05, 5.0
SAMPLER_MAX_TOP_K = MAX_TOP_K  # the same: more than 1000 candidates is no filter at all
# The sampler takes any top_p above 0 (a request, at least MIN_TOP_P).
TRAINER_MAX_EPOCHS = 10_000  # early stopping ends far sooner; the CLI may run long
TRAINER_MAX_MINUTES = MAX_RETRAIN_MINUTES  # one day, for the CLI and an admin alike
# Longest melody read from a MIDI file (128 bars of 4/4): a note at a huge
# tick would otherwise make a list of millions of rests. A request then keeps
# at most MAX_SEED_STEPS of it.
MIDI_READ_MAX_STEPS = 2048
