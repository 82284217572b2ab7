"""Melodies as standard MIDI files, both ways.

* `melody_to_midi`: a `Melody` -> a MIDI file with tempo, the melody's time
  signature and a General MIDI instrument: one track, or two with an
  accompaniment (the melody first, each on its own channel); `write_midi`
  writes one from a `Melody` or a plain list of symbols (checked there, once).
* `read_midi_seed`: any MIDI file -> a seed melody (the top voice of its
  non-drum notes, quantised to 16th-note steps) with the key and tempo the
  file states (`MidiSeed`); `melody_from_midi` gives the symbols alone;
  `read_midi_parts` keeps each instrument apart, for a reader that chooses
  the melody's part (`lstmuse_core.music.tune_file`).
* `resolve_instrument`: what people type ("flute", "Acoustic Grand Piano",
  "fiddle", "73") -> a General MIDI program number 0-127.

Times inside pretty_midi are seconds; everything here that talks about
melodies counts 16th-note steps.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.limits import MAX_BPM, MIDI_READ_MAX_STEPS, MIN_BPM
from lstmuse_core.music.encoding import HOLD, REST, STEPS_PER_QUARTER
from lstmuse_core.music.keys import Key, key_with_signature, parse_key
from lstmuse_core.music.melody import Melody
from lstmuse_core.music.meter import COMMON_TIME, Meter

if TYPE_CHECKING:
    import mido
    import pretty_midi

    from lstmuse_core.music.harmony.accompaniment import BackingNote

NOTE_VELOCITY = 100
DEFAULT_RESOLUTION = 220  # pretty_midi's ticks a quarter
TRIPLET_RESOLUTION = 480  # divisible by 3 (triplets) and 4 (16ths)
# The accompaniment is played lighter than the melody: its chords softer
# still than its bass, which carries the beat and sounds quieter down there.
# Its level in the mix is its channel volume (`formats.BACKING_VOLUMES`).
BACKING_VELOCITIES = {"bass": 80, "chord": 64}
CHANNEL_VOLUME = 7  # the MIDI controller that sets a channel's level
BACKING_TRACK_NAME = "Accompaniment"

INSTRUMENT_ALLOWED = "a General MIDI program 0-127 or a name such as piano, flute, violin, ..."
SEED_FILE_ALLOWED = "a standard MIDI file (.mid)"

# Short names people actually type. They win over pretty_midi's exact GM names
# (so "fiddle" is the violin, 40, not GM's folk "Fiddle", 110).
INSTRUMENT_ALIASES: dict[str, int] = {
    "piano": 0,
    "grand piano": 0,
    "bright piano": 1,
    "electric piano": 4,
    "epiano": 4,
    "rhodes": 4,
    "harpsichord": 6,
    "celesta": 8,
    "glockenspiel": 9,
    "bells": 9,
    "music box": 10,
    "vibraphone": 11,
    "vibes": 11,
    "marimba": 12,
    "xylophone": 13,
    "dulcimer": 15,
    "organ": 19,
    "church organ": 19,
    "accordion": 21,
    "harmonica": 22,
    "guitar": 24,
    "nylon guitar": 24,
    "classical guitar": 24,
    "steel guitar": 25,
    "acoustic guitar": 25,
    "electric guitar": 27,
    "bass": 32,
    "violin": 40,
    "fiddle": 40,
    "viola": 41,
    "cello": 42,
    "double bass": 43,
    "contrabass": 43,
    "pizzicato": 45,
    "harp": 46,
    "strings": 48,
    "string ensemble": 48,
    "choir": 52,
    "voice": 53,
    "trumpet": 56,
    "trombone": 57,
    "tuba": 58,
    "horn": 60,
    "french horn": 60,
    "brass": 61,
    "sax": 65,
    "saxophone": 65,
    "soprano sax": 64,
    "alto sax": 65,
    "tenor sax": 66,
    "oboe": 68,
    "english horn": 69,
    "cor anglais": 69,
    "bassoon": 70,
    "clarinet": 71,
    "piccolo": 72,
    "flute": 73,
    "recorder": 74,
    "pan flute": 75,
    "panpipes": 75,
    "whistle": 78,
    "tin whistle": 78,
    "ocarina": 79,
    "synth": 80,
    "sitar": 104,
    "banjo": 105,
    "koto": 107,
    "kalimba": 108,
    "bagpipe": 109,
    "bagpipes": 109,
    "steel drums": 114,
}

_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def _normalise_name(name: str) -> str:
    """Lower case, punctuation and runs of spaces/underscores/hyphens -> one space."""
    return _NOT_ALNUM.sub(" ", name.lower()).strip()


@cache
def _gm_names() -> list[str]:
    """The 128 GM names normalised like typed names, in program order."""
    # pretty_midi is imported where used: it pulls in mido and pyfluidsynth,
    # and `lstmuse --help` should not pay for them.
    from pretty_midi.constants import INSTRUMENT_MAP

    return [_normalise_name(name) for name in INSTRUMENT_MAP]


def resolve_instrument(value: str | int) -> int:
    """A General MIDI program number (0-127) from a number or an instrument name.

    Names are matched case-insensitively, ignoring punctuation: first the
    alias table (``"piano"``, ``"fiddle"``, ``"guitar"``...), then the exact
    GM names (``"Acoustic Grand Piano"``), then the first GM name (in program
    order) that contains every typed word (``"nylon"`` -> 24).
    """
    if isinstance(value, bool):  # bool is an int subclass; True is not a program
        raise InvalidParameter("instrument", value, INSTRUMENT_ALLOWED)
    if isinstance(value, int):
        if 0 <= value <= 127:
            return value
        raise InvalidParameter("instrument", value, INSTRUMENT_ALLOWED)
    name = _normalise_name(str(value))
    if name.isdigit():
        digits = name.lstrip("0") or "0"  # int() of thousands of digits is refused, unnamed
        if len(digits) > 3:
            raise InvalidParameter("instrument", value, INSTRUMENT_ALLOWED)
        return resolve_instrument(int(digits))
    if not name:
        raise InvalidParameter("instrument", value, INSTRUMENT_ALLOWED)
    if name in INSTRUMENT_ALIASES:
        return INSTRUMENT_ALIASES[name]
    if name in _gm_names():
        return _gm_names().index(name)
    words = name.split()
    for program, gm_name in enumerate(_gm_names()):
        if all(word in gm_name.split() for word in words):
            return program
    raise InvalidParameter("instrument", value, INSTRUMENT_ALLOWED)


def instrument_name(program: int) -> str:
    """The General MIDI name of ``program`` (0-127), e.g. 73 -> ``"Flute"``."""
    from pretty_midi import program_to_instrument_name

    return str(program_to_instrument_name(program))


def validate_bpm(bpm: float) -> float:
    """Return ``bpm`` (quarter notes a minute) as a float, or raise naming ``bpm``."""
    try:
        value = float(bpm)
    except (TypeError, ValueError):
        value = float("nan")
    if not MIN_BPM <= value <= MAX_BPM:  # also rejects NaN
        raise InvalidParameter(
            "bpm", bpm, f"a tempo from {MIN_BPM:g} to {MAX_BPM:g} beats a minute"
        )
    return value


def step_seconds(bpm: float) -> float:
    """Seconds of one 16th-note step at ``bpm`` quarter notes a minute (checked before)."""
    return 60.0 / bpm / STEPS_PER_QUARTER


def key_number(melody: Melody) -> int:
    """The MIDI key signature of ``melody``'s key: 0-11 major (C..B), 12-23 minor (c..b).

    The model's own key space (no key) is written as C major: no sharps or
    flats, which is also A minor's signature. MIDI knows only major and minor:
    another mode is written as its signature's major key (D dorian as C major).
    """
    if melody.key is None:
        return 0
    if melody.key.minor:
        return melody.key.tonic_pitch_class + 12
    return melody.key.signature_tonic


def melody_to_midi(
    melody: Melody,
    *,
    bpm: float = 120.0,
    program: int = 0,
    backing: Sequence[BackingNote] = (),
    backing_program: int = 0,
    backing_volume: int = 100,
) -> pretty_midi.PrettyMIDI:
    """A MIDI file of ``melody``, in its meter and with its key signature.

    ``bpm``: quarter notes a minute, so a step lasts ``60 / bpm / 4`` seconds;
    ``program``: General MIDI program. Both come checked from the boundary
    (`validate_bpm` / `resolve_instrument`: `write_midi`, `RenderOptions`);
    the melody was checked when it was made. Rests are silence; trailing
    rests leave no trace in the file. With ``backing`` notes
    (`lstmuse_core.music.harmony.accompaniment`) a second instrument, named
    `BACKING_TRACK_NAME`, plays them on ``backing_program`` at
    `BACKING_VELOCITIES` and channel volume ``backing_volume``
    (`lstmuse_core.music.formats.BACKING_VOLUMES`, the mix the audio plays too):
    written as a second track on its own channel (pretty_midi
    gives instruments channels 0, 1, ... in order, never the drums' 9), so
    the melody alone is one mute or one deleted track away.
    """
    import pretty_midi

    seconds_per_step = step_seconds(bpm)
    meter = melody.meter
    # pretty_midi's 220 ticks a quarter cannot hold a third of one: a melody with
    # triplets gets 480 (a triplet 8th is 160 ticks), so its notes fall on exact ticks.
    triplets = any(event.in_tuplet for event in melody.notes)
    resolution = TRIPLET_RESOLUTION if triplets else DEFAULT_RESOLUTION
    midi = pretty_midi.PrettyMIDI(resolution=resolution, initial_tempo=float(bpm))
    midi.time_signature_changes.append(
        pretty_midi.TimeSignature(meter.numerator, meter.denominator, 0.0)
    )
    midi.key_signature_changes.append(pretty_midi.KeySignature(key_number(melody), 0.0))
    instrument = pretty_midi.Instrument(program=program, name=instrument_name(program))
    for event in melody.notes:
        if event.pitch is None:
            continue
        instrument.notes.append(
            pretty_midi.Note(
                velocity=NOTE_VELOCITY,
                pitch=event.pitch,
                start=float(event.start * seconds_per_step),
                end=float(event.end * seconds_per_step),
            )
        )
    midi.instruments.append(instrument)
    if backing:
        accompaniment = pretty_midi.Instrument(program=backing_program, name=BACKING_TRACK_NAME)
        accompaniment.control_changes.append(
            pretty_midi.ControlChange(CHANNEL_VOLUME, backing_volume, 0.0)
        )
        accompaniment.notes = [
            pretty_midi.Note(
                velocity=BACKING_VELOCITIES[note.part],
                pitch=note.pitch,
                start=note.start * seconds_per_step,
                end=note.end * seconds_per_step,
            )
            for note in backing
        ]
        midi.instruments.append(accompaniment)
    return midi


def write_midi(
    melody: Melody | Sequence[str],
    path: Path | str,
    *,
    bpm: float = 120,
    program: int | str = 0,
    meter: Meter | str | None = None,
    transpose: int = 0,
) -> Path:
    """Write ``melody`` as a MIDI file at ``path`` and return ``path``.

    The researchers' entry point: ``melody`` is a `Melody` or a list of
    symbols (one per 16th-note step); ``bpm``: quarter notes a minute
    (20-300); ``program``: General MIDI program 0-127 or an instrument name;
    ``meter``: a `Meter` or its text, ``"6/8"`` (default 4/4; for a `Melody`,
    given only to change its own); ``transpose``: semitones added to every pitch. Invalid
    values raise `InvalidParameter` naming them.
    """
    if not isinstance(melody, Melody):
        melody = Melody(melody, meter or COMMON_TIME)
    elif meter is not None:
        melody = Melody(melody.symbols, meter, melody.key)
    midi = melody_to_midi(
        melody.transposed(transpose), bpm=validate_bpm(bpm), program=resolve_instrument(program)
    )
    path = Path(path)
    midi.write(str(path))
    return path


@dataclass(frozen=True)
class MidiSeed:
    """A seed melody read from a MIDI file, with the key and tempo the file states.

    ``symbols``: model symbols, one per 16th-note step, starting at the file's
    first tick (a bar line); ``key``: from the file's first key-signature
    event (MIDI knows only major and minor), None without one; ``bpm``: quarter
    notes a minute from its first tempo event, None without one.
    """

    symbols: tuple[str, ...]
    key: Key | None = None
    bpm: float | None = None

    def key_in_mode(self, mode: str | None) -> Key | None:
        """The file's key; in another ``mode``, that mode's key on the same signature.

        A signature names a scale, not a mode: a G major file read as dorian
        is in A dorian (one sharp), not G dorian (one flat).
        """
        if self.key is None or mode is None or mode == self.key.mode:
            return self.key
        return key_with_signature(self.key.signature_sharps, mode)


def melody_from_midi(
    path_or_bytes: Path | str | bytes, *, max_steps: int = MIDI_READ_MAX_STEPS
) -> list[str]:
    """The symbols of `read_midi_seed` (the file's key and tempo left out)."""
    return list(read_midi_seed(path_or_bytes, max_steps=max_steps).symbols)


def read_midi_seed(
    path_or_bytes: Path | str | bytes, *, max_steps: int = MIDI_READ_MAX_STEPS
) -> MidiSeed:
    """Read a MIDI file as a seed melody in model symbols, with its key and tempo.

    The melody is the top voice (highest sounding pitch at each 16th-note
    step) of the file's non-drum notes, but for an accompaniment track
    LSTMuse wrote (`BACKING_TRACK_NAME`). Steps come from MIDI ticks
    (``resolution / 4`` ticks a step), so they follow the file's own tempo
    and tempo changes. A lower note that re-emerges when a higher one stops
    starts a new note. Silence before the first note becomes rests; silence
    after the last note is dropped; at most ``max_steps`` steps are kept.
    Raises `InvalidParameter` (``seed``) for anything that is not a readable
    MIDI file with at least one pitched note.
    """
    read = read_midi_parts(path_or_bytes, max_steps=max_steps)
    # A file LSTMuse wrote with a backing: its accompaniment is no part of the
    # melody (its chords would fill the melody's rests and pickup).
    parts = [part for part in read.parts if part.name != BACKING_TRACK_NAME] or read.parts
    notes = [note for part in parts for note in part.notes]
    return MidiSeed(tuple(top_voice(notes)), read.key, read.bpm)


@dataclass(frozen=True)
class MidiPart:
    """One instrument of a MIDI file: its name (the instrument's, else its track's) and its
    notes as (start step, end step, MIDI pitch)."""

    name: str
    notes: tuple[tuple[int, int, int], ...]


@dataclass(frozen=True)
class MidiParts:
    """A MIDI file's pitched (non-drum) parts and what the file states: its first key
    signature, tempo (quarter notes a minute) and time signature (``"6/8"``), None where
    it states none."""

    parts: tuple[MidiPart, ...]
    key: Key | None
    bpm: float | None
    meter: str | None


def read_midi_parts(
    path_or_bytes: Path | str | bytes,
    *,
    max_steps: int = MIDI_READ_MAX_STEPS,
    parameter: str = "seed",
) -> MidiParts:
    """Every non-drum part of a MIDI file on the 16th-note grid of its ticks, within its
    first ``max_steps`` steps, and its key, tempo and meter (see `read_midi_seed`).

    Raises `InvalidParameter` (``parameter``) for anything that is not a readable
    MIDI file with at least one pitched note.
    """
    import mido
    import pretty_midi

    label: object = (
        f"<{len(path_or_bytes)} bytes>"
        if isinstance(path_or_bytes, bytes)
        else Path(path_or_bytes).name
    )
    try:
        midi_file = (
            mido.MidiFile(file=io.BytesIO(path_or_bytes))
            if isinstance(path_or_bytes, bytes)
            else mido.MidiFile(str(path_or_bytes))
        )
        # Read before pretty_midi makes the event times absolute.
        tempo, key_signature, time_signature = (
            _first_event(midi_file, kind) for kind in _SEED_FACTS
        )
        midi = pretty_midi.PrettyMIDI(mido_object=midi_file)
    except Exception as error:  # mido/pretty_midi raise many types for a corrupt file
        raise InvalidParameter(parameter, label, SEED_FILE_ALLOWED, hint=_short(error)) from error
    parts = _parts_on_grid(midi, max_steps)
    if not parts:
        raise InvalidParameter(
            parameter, label, SEED_FILE_ALLOWED, hint="the file has no pitched (non-drum) notes"
        )
    return MidiParts(
        parts,
        parse_key(key_signature.key) if key_signature is not None else None,
        _tempo_bpm(tempo.tempo) if tempo is not None else None,
        f"{time_signature.numerator}/{time_signature.denominator}"
        if time_signature is not None
        else None,
    )


# The events whose first occurrence a seed file's key, tempo and meter come from.
_SEED_FACTS = ("set_tempo", "key_signature", "time_signature")


def _first_event(midi_file: mido.MidiFile, kind: str) -> mido.MetaMessage | None:
    """The earliest event of type ``kind`` in any track (None: the file has none).

    mido keeps a key signature's spelling (Gb or F#, Bb minor as ``Bbm``),
    which pretty_midi's key numbers lose; and pretty_midi reports 120 bpm for
    a file without a tempo event, which is not the file saying so.
    """
    first: tuple[int, mido.MetaMessage] | None = None
    for track in midi_file.tracks:
        tick = 0
        for message in track:
            tick += message.time
            if message.type == kind:
                if first is None or tick < first[0]:
                    first = (tick, message)
                break
    return first[1] if first is not None else None


def _tempo_bpm(microseconds_per_quarter: int) -> float:
    """A MIDI tempo as quarter notes a minute, within `MIN_BPM`-`MAX_BPM`."""
    # 110 bpm is stored as 545,454 microseconds: round away the last microsecond.
    bpm = round(60_000_000 / microseconds_per_quarter, 2)
    return min(MAX_BPM, max(MIN_BPM, bpm))


def _parts_on_grid(midi: pretty_midi.PrettyMIDI, max_steps: int) -> tuple[MidiPart, ...]:
    """``midi``'s non-drum instruments with a note in the first ``max_steps`` steps."""
    ticks_per_step = midi.resolution / STEPS_PER_QUARTER
    parts = []
    for instrument in midi.instruments:
        if instrument.is_drum:
            continue
        notes = []
        for note in instrument.notes:
            start = round(midi.time_to_tick(note.start) / ticks_per_step)
            end = round(midi.time_to_tick(note.end) / ticks_per_step)
            if start < max_steps:
                # A grace note shorter than half a step still gets one step.
                notes.append((start, min(max(end, start + 1), max_steps), note.pitch))
        if notes:
            parts.append(MidiPart(str(instrument.name or ""), tuple(notes)))
    return tuple(parts)


def top_voice(notes: Sequence[tuple[int, int, int]]) -> list[str]:
    """Skyline: at each step the highest sounding note; (start, end, pitch) in steps."""
    length = max(end for _, end, _ in notes)
    top: list[tuple[int, int] | None] = [None] * length  # (pitch, start) of the top note
    for start, end, pitch in notes:
        for step in range(start, end):
            current = top[step]
            # The higher pitch wins; for equal pitches the later onset (a repeated note).
            if current is None or (pitch, start) > current:
                top[step] = (pitch, start)
    symbols: list[str] = []
    previous: tuple[int, int] | None = None
    for step, note in enumerate(top):
        if note is None:
            symbols.append(HOLD if step > 0 and previous is None else REST)
        elif note == previous:
            symbols.append(HOLD)
        else:
            symbols.append(str(note[0]))
        previous = note
    return symbols


def _short(error: Exception) -> str:
    text = str(error) or type(error).__name__
    return text if len(text) <= 120 else text[:117] + "..."
