"""The output formats and their limits: facts both the request and the renderer use.

A `MelodyRequest` checks what a user asks for against these before any work
starts; `lstmuse_core.music.render` makes the files. Keeping the facts here lets
the request (and the bot, which imports it) stay free of the renderer.
"""

from __future__ import annotations

AUDIO_FORMATS = ("mp3", "ogg", "wav", "none")
IMAGE_KINDS = ("pianoroll", "score", "none")
# Scores to open in a notation program (MuseScore, Finale, Sibelius, Dorico), or
# a tune in ABC as folk players share them; each is also its file's kind.
EXPORT_FORMATS = ("none", "musicxml", "abc")
# What plays the accompaniment (bass and chords under the melody), as General
# MIDI programs: the nylon-string guitar (24), the piano (0), the accordion
# (21); "none": the melody alone. Not the steel-string guitar (25) sessions
# use: FluidR3's takes 2.3x the synthesis time of the nylon one (127 against
# 54 ms for a 30 s reel's backing), for a sound a phone speaker barely tells apart.
BACKING_PROGRAMS = {"guitar": 24, "piano": 0, "accordion": 21}
# Each one's channel volume (MIDI controller 7; 100 is MIDI's default), in the
# MIDI file and so in the audio: the backing 6 dB (RMS) under a piano melody
# (the default instrument) in FluidR3, measured over a reel, a jig, a waltz and
# a polka (-6.1, -5.9, -6.1 dB; at 100 the guitar is 4 dB louder than the other
# two). Half the melody's amplitude keeps it plainly on top while the bass and
# the off-beat chords are still heard on a phone speaker. A flute or violin
# melody, louder in FluidR3, stands 4-5 dB further above the same backing.
BACKING_VOLUMES = {"guitar": 64, "piano": 82, "accordion": 79}
BACKINGS = (*BACKING_PROGRAMS, "none")

# 32 kHz: 30 % less synthesis and 20 % less MP3 encoding than 44.1 kHz, and
# nothing a listener misses: LAME V5 already cut everything above ~16 kHz
# (energy there was -70 dB in the 44.1 kHz MP3s).
SAMPLE_RATE = 32_000  # Hz
# Upper estimates of encoded audio bytes per second, for refusing requests
# whose files could not be posted (MP3 V5 and Vorbis q3 average ~16 KB/s for
# one instrument; 16-bit mono WAV is exact).
AUDIO_BYTES_PER_SECOND = {"mp3": 24_000, "ogg": 24_000, "wav": 2 * SAMPLE_RATE, "none": 0}
TAIL_SECONDS = 1.0  # silence after the last step, so the release and reverb ring out
# A MusicXML file is ~330 bytes a note: 1,024 sixteenths, each its own note, took 325 KiB
# (an ABC tune takes a few bytes a note: the allowance covers it).
EXPORT_BYTES_ALLOWANCE = 512 * 1024

DEFAULT_MAX_BYTES = 8 * 1024 * 1024  # under Discord's 10 MiB upload limit per message
MIN_MAX_BYTES = 1024
MAX_MAX_BYTES = 1024**3
