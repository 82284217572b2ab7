"""The ABC export: music21's ABC parser reads back the melody's notes, meter and key."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lstmuse_core.model.generate import load_generator
from lstmuse_core.music.encoding import STEPS_PER_QUARTER, TRIPLET, TRIPLET_STEPS
from lstmuse_core.music.keys import Key, heptatonic_mode
from lstmuse_core.music.melody import Melody
from lstmuse_core.music.render import RenderOptions, render_melody
from lstmuse_core.music.render.abc import abc_tune

STYLES = ("folk", "irish", "fiddle", "scottish", "chinese")
# Every spelling of every tonic (D# major's nine sharps are written as Eb's three
# flats) but Fb: music21 10.5 reads K:Fblyd, a correct seven flats, as one flat.
TONICS = [
    letter + accidental
    for letter in "CDEFGAB"
    for accidental in ("", "#", "b")
    if letter + accidental != "Fb"
]
Event = tuple[int | None, Fraction]


def _expected(melody: Melody) -> list[Event]:
    """The melody's notes and rests from its first note on (a pickup's rests are not written)."""
    events = [(e.pitch, Fraction(e.duration, STEPS_PER_QUARTER)) for e in melody.notes]
    while events[0][0] is None:
        events.pop(0)
    return _merged_rests(events)


def _merged_rests(events: list[Event]) -> list[Event]:
    merged: list[Event] = []
    for pitch, length in events:
        if pitch is None and merged and merged[-1][0] is None:
            merged[-1] = (None, merged[-1][1] + length)
        else:
            merged.append((pitch, length))
    return merged


def _parsed(text: str) -> Any:
    from music21 import converter

    return converter.parse(text, format="abc")


def _read_back(score: Any) -> list[Event]:
    """The parsed tune's notes (ties joined) and rests, as MIDI pitches and quarter lengths."""
    flat = score.flatten().stripTies()
    return _merged_rests(
        [
            (None if n.isRest else n.pitch.midi, Fraction(n.quarterLength))
            for n in flat.notesAndRests
        ]
    )


def _signature_sharps(key: Key | None) -> int:
    """The sharps ABC can write for ``key``: a signature of 8-12 sharps or flats is respelled."""
    if key is None:
        return 0
    sharps = key.signature_sharps
    return sharps - 12 if sharps > 7 else sharps + 12 if sharps < -7 else sharps


def _pickup_lead(symbols: list[str], bar_steps: int, rng: np.random.Generator) -> int:
    """Steps of rest to put before a third of the melodies (a pickup), so that each triplet
    group still fits in its bar, as the sampler places them (0: no pickup)."""
    if rng.random() >= 0.33:
        return 0
    markers = [i for i, s in enumerate(symbols) if s == TRIPLET]
    leads = [
        lead
        for lead in range(1, bar_steps)
        if all((i + lead) % bar_steps + TRIPLET_STEPS <= bar_steps for i in markers)
    ]
    return int(rng.choice(leads)) if leads else 0


def _generated_melodies() -> list[Melody]:
    """1,000+ melodies: every style's meters and modes, random keys, a third with a pickup."""
    rng = np.random.default_rng(22)
    melodies = []
    for style in STYLES:
        generator = load_generator(style)
        meters, modes = list(generator.conditioning.meters), list(generator.conditioning.modes)
        per_pair = -(-1000 // (len(STYLES) * len(meters) * len(modes))) + 1
        for meter in meters:
            for mode in modes:
                sampled = generator.sample(
                    per_pair, bars=4, meter=meter, mode=mode, seed=int(rng.integers(10**6))
                )
                for row in sampled:
                    lead = _pickup_lead(row.symbols, meter.bar_steps, rng)
                    symbols = ["r"] * lead + list(row.symbols)
                    key = None if rng.random() < 0.1 else Key(str(rng.choice(TONICS)), mode)
                    melodies.append(Melody.from_model(symbols, meter, key))
    return melodies


def test_generated_tunes_read_back_to_their_notes_meter_and_key() -> None:
    """music21 reads every tune's ABC back to the melody's notes, meter, key and mode."""
    melodies = _generated_melodies()
    assert len(melodies) >= 1000
    for melody in melodies:
        text = abc_tune(melody, title="Generated", bpm=110)
        score = _parsed(text)
        assert _read_back(score) == _expected(melody), text
        flat = score.flatten()
        (time_signature,) = flat.getElementsByClass("TimeSignature")
        assert time_signature.ratioString == melody.meter.text, text
        (signature,) = flat.getElementsByClass("KeySignature")
        assert signature.sharps == _signature_sharps(melody.key), text
        # A pentatonic mode is written as its heptatonic parent (ABC has no other).
        assert signature.mode == (heptatonic_mode(melody.key.mode) if melody.key else "major")


def _body(text: str) -> list[str]:
    """The tune's lines after the ``K:`` field."""
    lines = text.splitlines()
    return lines[[line[:2] for line in lines].index("K:") + 1 :]


def test_a_pickup_is_a_short_first_bar() -> None:
    """A 6/8 tune whose first bar starts with five eighths of rest starts with a one-eighth bar."""
    pickup = ["r"] + ["_"] * 9 + ["66", "_"]  # an F# on the sixth eighth
    bars = ["67", "_", "69", "_", "71", "_", "74"] + ["_"] * 5 + ["74"] + ["_"] * 11
    tune = Melody(pickup + bars, "6/8", "D")
    text = abc_tune(tune)
    assert _body(text) == ["F | GAB d3 | d6 |]"]
    measures = _parsed(text).parts[0].getElementsByClass("Measure")
    assert [m.duration.quarterLength for m in measures] == [0.5, 3.0, 3.0]


def test_accidentals_last_to_the_bar_line() -> None:
    """In C, F# twice needs one sharp, F after it a natural, and F# in the next bar a sharp."""
    bar_1 = ["66", "_", "_", "_", "66", "_", "_", "_", "65"] + ["_"] * 7
    bar_2 = ["66"] + ["_"] * 15
    text = abc_tune(Melody(bar_1 + bar_2, "4/4", "C"))
    assert _body(text) == ["^F2 F2 =F4 | ^F8 |]"]
    assert _read_back(_parsed(text)) == [(66, 1), (66, 1), (65, 2), (66, 4)]


def test_a_double_sharp_is_written_on_each_of_its_notes() -> None:
    """In G# mixolydian (seven sharps) G is F##: music21 carries ``^^f`` to the bar's next
    f as a single sharp, so each F## is written; the F# after them is a ``^f`` again."""
    bar = ["78", "_", "79", "_", "80", "_", "79", "_", "78", "_", "80", "_"]  # 6/8
    text = abc_tune(Melody(bar, "6/8", Key("G#", "mixolydian")))
    assert _body(text) == ["f^^fg ^^f^fg |]"]
    assert [pitch for pitch, _ in _read_back(_parsed(text))] == [78, 79, 80, 79, 78, 80]


def test_a_note_held_over_the_bar_line_is_tied() -> None:
    """A half note from beat 4 is a quarter tied over the bar line to a quarter."""
    held = ["72"] + ["_"] * 11 + ["74"] + ["_"] * 7 + ["72"] + ["_"] * 11
    text = abc_tune(Melody(held, "4/4", "C"))
    assert _body(text) == ["c6 d2- | d2 c6 |]"]
    assert _read_back(_parsed(text)) == [(72, 3), (74, 2), (72, 3)]


@pytest.mark.parametrize(
    ("key", "field"),
    [
        (Key("A", "dorian"), "K:Ador"),
        (Key("E", "minor"), "K:Emin"),
        (Key("G", "mixolydian"), "K:Gmix"),
        (Key("D"), "K:D"),
        (Key("Bb", "lydian"), "K:Bblyd"),
        (Key("D#"), "K:Eb"),  # nine sharps: written as three flats
    ],
)
def test_the_key_field_names_the_mode(key: Key, field: str) -> None:
    """``K:`` is the key's tonic and its mode's ABC name."""
    text = abc_tune(Melody(["60", "_"], "4/4", key))
    assert field in text.splitlines()


def test_the_tempo_is_given_in_the_meters_beat() -> None:
    """120 quarter notes a minute is a dotted quarter of 80 in 6/8 and a half of 60 in 2/2."""
    jig = abc_tune(Melody(["60", "_"], "6/8", "D"), bpm=120)
    assert "Q:3/8=80" in jig.splitlines()
    (mark,) = _parsed(jig).flatten().getElementsByClass("MetronomeMark")
    assert (mark.number, mark.referent.quarterLength) == (80, 1.5)
    assert "Q:1/2=60" in abc_tune(Melody(["60", "_"], "2/2", "D"), bpm=120).splitlines()


def test_render_melody_writes_the_abc_file_when_asked(tmp_path: Path) -> None:
    """export=abc writes <stem>.abc beside the MIDI file and lists it as the abc file."""
    tune = Melody(["67", "_", "69", "_", "71", "_", "_", "_"], "2/4", "G")
    result = render_melody(
        tune,
        tmp_path,
        stem="tune",
        title="A reel",
        options=RenderOptions(audio_format="none", image="none", export="abc", bpm=96),
    )
    assert result.by_kind == {"midi": tmp_path / "tune.mid", "abc": tmp_path / "tune.abc"}
    text = (tmp_path / "tune.abc").read_text(encoding="utf-8")
    assert text == abc_tune(tune, title="A reel", bpm=96)
    assert "T:A reel" in text.splitlines()
