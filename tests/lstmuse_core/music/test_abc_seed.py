"""Seeds typed in ABC: read without music21, checked against music21 on real tunes."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.music.abc_seed import AbcSeed, looks_like_abc, read_abc_seed
from lstmuse_core.music.corpus import music21_corpus_root, split_abc_tunes
from lstmuse_core.music.encoding import NoteEvent, encode_notes
from lstmuse_core.music.keys import Key, parse_key
from lstmuse_core.options import MELODY_OPTIONS, find_option
from lstmuse_core.request import MelodyRequest

MELODY_SEED = find_option(MELODY_OPTIONS, "seed")

_HEADER = re.compile(r"^[A-Za-z]:")


# What the oracle is not asked: decorations, chord symbols and grace notes (abc2midi
# plays graces in the next note's time and shortens staccato notes; a seed skips them)
# and repeat signs (abc2midi plays repeats out; a seed is played once, as written).
_NOT_FOR_THE_ORACLE = re.compile(r'"[^"]*"|![^!]*!|\+[^+]*\+|\{[^}]*\}|[~.uvTHLMOPRS\\]')
_REPEAT_SIGNS = re.compile(r":*\|[\]|:]*\d*|:*\[\d+|::|\[\|")


def _abc2midi_symbols(key: str, unit: str, body: str, folder: Path) -> list[str] | None:
    """The notes abc2midi (Debian's abcmidi) plays for ``body``, as symbols: the top note
    of each onset, lasting to its end; silence between notes as rests. None when a note
    starts or ends off the 16th-note grid."""
    import pretty_midi

    plain = _REPEAT_SIGNS.sub("|", _NOT_FOR_THE_ORACLE.sub("", body))
    tune = folder / "tune.abc"
    tune.write_text(f"X:1\nM:none\nL:{unit}\nQ:1/4=60\nK:{key}\n{plain}\n", encoding="utf-8")
    subprocess.run(
        ["abc2midi", str(tune), "-o", str(folder / "tune.mid")], check=True, capture_output=True
    )
    played = pretty_midi.PrettyMIDI(str(folder / "tune.mid")).instruments[0].notes
    tops: dict[int, tuple[int, int]] = {}  # onset step -> (pitch, end step); a second a quarter
    for note in played:
        start, end = round(note.start * 4), round(note.end * 4)
        if abs(note.start * 4 - start) > 0.1 or abs(note.end * 4 - end) > 0.1 or end <= start:
            return None
        if start not in tops or note.pitch > tops[start][0]:
            tops[start] = (note.pitch, end)
    notes: list[NoteEvent] = []
    step = 0
    for start, (pitch, end) in sorted(tops.items()):
        if start > step:
            notes.append(NoteEvent(None, step, start - step))
        notes.append(NoteEvent(pitch, start, end - start))
        step = end
    return encode_notes(notes)


def _without_final_rest(symbols: list[str]) -> list[str]:
    end = len(symbols)
    while end and symbols[end - 1] == "_":
        end -= 1
    return symbols[: end - 1] if end and symbols[end - 1] == "r" else symbols


def _typed_parts(tune: str) -> tuple[str, str, str] | None:
    """(key, unit, body) of a book's tune, as a member would paste it on one line."""
    lines = tune.splitlines()
    fields = {line[0]: line[2:].strip() for line in lines if _HEADER.match(line)}
    body = " ".join(line for line in lines if line.strip() and not _HEADER.match(line))
    if "K" not in fields or "%" in body or re.search(r"\(\d", body):
        return None  # comments, tuplets: not a typed seed
    if re.search(r"[<>]-|-[<>]|\[[KLM]:|\bz\d*[<>]|[<>]\s*z", body):
        return None  # a tie beside a broken rhythm, a field inside the tune, broken rests
    return fields["K"], fields.get("L", "1/8"), body


def test_real_oneill_tunes_read_as_abc2midi_plays_them(tmp_path: Path) -> None:
    """Every 3rd of O'Neill's first 300 tunes, typed as a seed: the same pitches and
    lengths, 16th by 16th, as abc2midi plays from the same text. abc2midi, not music21:
    music21's ABC reader ignores that an accidental holds to the bar line (``^F3F``
    reads the second F as F natural), and drops a note under a fermata ``H``."""
    folder = music21_corpus_root() / "oneills1850"
    tunes = []
    for name in ("0001-0050.abc", "0051-0100.abc", "0101-0200.abc", "0201-0300.abc"):
        tunes += split_abc_tunes((folder / name).read_text(encoding="latin-1"))
    compared = 0
    for tune in tunes[::3]:
        parts = _typed_parts(tune)
        if parts is None:
            continue
        key, unit, body = parts
        typed = f"[K:{key}] [L:{unit}] {body}"
        expected = _abc2midi_symbols(key, unit, body, tmp_path)
        if expected is None:  # off the grid (a dotted 16th): refused by name, never rounded
            with pytest.raises(InvalidParameter, match="whole 16th"):
                read_abc_seed(typed, max_steps=10_000)
            continue
        read = list(read_abc_seed(typed, max_steps=10_000).symbols)
        assert _without_final_rest(read) == expected, typed  # MIDI ends at the last note
        compared += 1
    assert compared >= 50  # most tunes of a dance book have no tuplet


def test_the_key_signature_and_bar_accidentals() -> None:
    """No K:: the request's key's signature (key=D: c is C#); an accidental holds to the
    bar line for its own octave only; a stated K: wins and is the seed's key."""
    assert read_abc_seed("|:GABc dedB|").symbols[6] == "72"
    assert read_abc_seed("|:GABc dedB|", parse_key("D")).symbols[6] == "73"
    assert read_abc_seed("^c c C | c").symbols[::2] == ("73", "73", "60", "72")
    seed = read_abc_seed("K:Ador Q:3/8=110 f2")
    assert seed.key == Key("A", "dorian") and seed.symbols == ("78", "_", "_", "_")
    assert seed.bpm == 165.0  # 110 dotted quarters


def test_lengths_broken_rhythm_ties_chords_and_rests() -> None:
    assert read_abc_seed("A2 B/ c/ z").symbols == ("69", "_", "_", "_", "71", "72", "r", "_")
    assert read_abc_seed("[L:1/4] A// B3/2").symbols == ("69", "71", "_", "_", "_", "_", "_")
    assert read_abc_seed("A>B c<d").symbols == ("69", "_", "_", "71", "72", "74", "_", "_")
    assert read_abc_seed("A2-A [CEG]").symbols == ("69",) + ("_",) * 5 + ("67", "_")
    assert read_abc_seed('"G" ~G !trill!A {g}B').symbols == ("67", "_", "69", "_", "71", "_")
    assert read_abc_seed("[L:1/16] A B2").symbols == ("69", "71", "_")


@pytest.mark.parametrize(
    ("text", "token", "allowed"),
    [
        ("(3ABc d2", "(3", "tuplets"),
        ("A/4", "A/4", "whole 16th"),
        ("K:Hdor A", "K:Hdor", "K:Ador"),
        ("A4 B4 c4 d4 e4 f4", "e4", "at most 32"),
        ("A $ B", "$", "ABC notes"),
    ],
)
def test_what_cannot_be_read_is_refused_by_name(text: str, token: str, allowed: str) -> None:
    with pytest.raises(InvalidParameter) as refused:
        read_abc_seed(text, max_steps=32)
    assert refused.value.parameter == "seed" and refused.value.value == token
    assert allowed in refused.value.allowed


def test_typed_abc_is_told_from_note_names_and_symbols() -> None:
    """A seed that reads as note names or symbols is those (``Bb3 Eb4`` is B flat, not B
    and b); one that does not and looks like ABC is ABC; anything else is refused as
    note names are."""
    for abc in ("|:GABc dedB|", "GABc", "K:G ABc", "^F2", "c'd,", "z2 A"):
        assert looks_like_abc(abc), abc
        assert isinstance(MELODY_SEED.value(abc), AbcSeed), abc
    assert MELODY_SEED.value("Bb3 Eb4:2") == ("58", "_", "_", "_", "63") + ("_",) * 7
    assert MELODY_SEED.value("60 _ 62") == ("60", "_", "62")
    with pytest.raises(InvalidParameter, match="note name"):
        MELODY_SEED.value("C4 H4")


def test_a_request_with_an_abc_seed_takes_its_key_and_tempo_unless_given() -> None:
    """`seed=` in ABC through the option table: K: and Q: become the request's key and
    tempo as a seed file's do; a typed key or bpm wins, and reads the accidentals."""
    request = MelodyRequest.from_options({"seed": "K:Ador Q:3/8=110 |:eA A2 B|"})
    assert (request.key, request.mode, request.bpm) == ("A dorian", "dorian", 165.0)
    assert request.seed_melody[:3] == ("76", "_", "69")
    given = MelodyRequest.from_options({"seed": "|:GABc dedB|", "key": "D", "bpm": "100"})
    assert (given.key, given.bpm, given.seed_melody[6]) == ("D", 100.0, "73")
    assert MelodyRequest.from_json(given.to_json()) == given  # stored as symbols
