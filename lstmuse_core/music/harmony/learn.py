"""Learn the harmonizer's tables from music21's Bach chorales (run once; the JSON is committed).

    python -m lstmuse_core.music.harmony.learn [--limit N] [--out PATH]

Each chorale (``music21.corpus.chorales.Iterator`` order) is chordified and
read one beat at a time: the chord sounding on the beat, as music21's Roman
numeral analysis names it in the chorale's analysed key, becomes a chord
function (`lstmuse_core.music.harmony.chords`; chords outside the mode's
functions, such as secondary dominants, break the chain and are not
counted), and the soprano's notes under the beat, weighted by how long they
sound in it, become counts of their roles under that chord. Counts of
function-to-function moves on consecutive beats, of first functions and of
roles, per major and minor, plus add-half smoothing, are the tables.

Every 10th chorale (by corpus order, from the first) is held out, listed in
the JSON, for `bench/harmony_bench.py`.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lstmuse_core.music.harmony.chords import ROLES, function_intervals, functions_of, roles
from lstmuse_core.music.harmony.harmonizer import TABLES_PATH

HELD_OUT_EVERY = 10
SMOOTHING = 0.5
TABLE_MODES = ("major", "minor")


@dataclass(frozen=True)
class ChoraleBeat:
    """One beat of a chorale: Bach's chord on it and the soprano under it.

    ``function``: the chord's function in the key (None: outside the mode's
    functions); ``root``/``quality``: music21's reading of the chord (root
    pitch class, ``"major"``, ``"minor"``, ``"diminished"``, ...);
    ``soprano``: (pitch class, quarter lengths sounding in the beat) pairs.
    """

    offset: float
    function: str | None
    root: int
    quality: str
    soprano: tuple[tuple[int, float], ...]


@dataclass(frozen=True)
class ChoraleHarmony:
    name: str
    tonic: int  # pitch class of the analysed key's tonic
    mode: str  # "major" or "minor"
    beat_quarters: float
    beats: tuple[ChoraleBeat, ...]


def chorale_names() -> list[str]:
    from music21 import corpus

    return [str(name) for name in corpus.chorales.Iterator(returnType="filename")]


def held_out(names: list[str]) -> list[str]:
    """The song-level test set: every `HELD_OUT_EVERY`-th chorale by corpus order."""
    return names[::HELD_OUT_EVERY]


def read_chorale(name: str) -> ChoraleHarmony | None:
    """The chorale's beats (see `ChoraleBeat`), None where music21 cannot read it as
    four parts in major or minor."""
    from music21 import corpus, roman

    score = corpus.parse(name)
    if len(score.parts) < 2:
        return None
    key = score.analyze("key")
    if key.mode not in TABLE_MODES:
        return None
    tonic = key.tonic.pitchClass
    signatures = score.parts[0].recurse().getElementsByClass("TimeSignature")
    beat = float(signatures[0].beatDuration.quarterLength) if signatures else 1.0
    chords = list(score.chordify().flatten().getElementsByClass("Chord"))
    soprano = list(score.parts[0].flatten().notes)
    end = float(score.highestTime)
    beats = []
    chord_index = 0
    offset = float(chords[0].offset) if chords else end
    while offset < end - 1e-9:
        while chord_index + 1 < len(chords) and float(chords[chord_index + 1].offset) <= offset:
            chord_index += 1
        chord = chords[chord_index]
        numeral = roman.romanNumeralFromChord(chord, key)
        root = numeral.root().pitchClass
        quality = "dominant-seventh" if numeral.isDominantSeventh() else numeral.quality
        under = tuple(
            (n.pitch.pitchClass, overlap)
            for n in soprano
            if n.isNote
            and (overlap := _overlap(float(n.offset), float(n.quarterLength), offset, beat)) > 0
        )
        function = _function((root - tonic) % 12, quality, key.mode)
        beats.append(ChoraleBeat(offset, function, root, quality, under))
        offset += beat
    return ChoraleHarmony(name, tonic, key.mode, beat, tuple(beats))


def _overlap(start: float, length: float, beat_start: float, beat: float) -> float:
    return max(0.0, min(start + length, beat_start + beat) - max(start, beat_start))


def _function(root: int, quality: str, mode: str) -> str | None:
    """The function a chord (root in semitones above the tonic, music21's quality) has in
    the mode, None if none: seventh chords other than V7 count as their triad."""
    for function in functions_of(mode):
        intervals = function_intervals(function, mode)
        if intervals[0] != root:
            continue
        if function == "V7":
            if quality == "dominant-seventh":
                return function
            continue
        if quality == "dominant-seventh":
            continue
        third, fifth = ((i - intervals[0]) % 12 for i in intervals[1:3])
        triad = {(4, 7): "major", (3, 7): "minor", (3, 6): "diminished"}[(third, fifth)]
        if triad == quality:
            return function
    return None


def count(chorales: list[ChoraleHarmony]) -> dict[str, Any]:
    """Smoothed start, transition and role probabilities per major and minor."""
    tables: dict[str, Any] = {}
    for mode in TABLE_MODES:
        states = functions_of(mode)
        index = {state: i for i, state in enumerate(states)}
        start = np.full(len(states), SMOOTHING)
        moves = np.full((len(states), len(states)), SMOOTHING)
        heard = np.full((len(states), len(ROLES)), SMOOTHING)
        role_of = {state: roles(state, mode) for state in states}
        for chorale in (c for c in chorales if c.mode == mode):
            known = [b for b in chorale.beats if b.function is not None]
            if known:
                start[index[str(known[0].function)]] += 1
            for before, after in zip(chorale.beats, chorale.beats[1:], strict=False):
                if before.function is not None and after.function is not None:
                    moves[index[before.function], index[after.function]] += 1
            for beat in known:
                state = str(beat.function)
                for pitch_class, quarters in beat.soprano:
                    role = role_of[state][(pitch_class - chorale.tonic) % 12]
                    heard[index[state], ROLES.index(role)] += quarters / chorale.beat_quarters
        tables[mode] = {
            "states": list(states),
            "start": _rounded(start / start.sum()),
            "transitions": _rounded(moves / moves.sum(axis=1, keepdims=True)),
            "roles": _rounded(heard / heard.sum(axis=1, keepdims=True)),
        }
    return tables


def _rounded(array: np.ndarray) -> list[Any]:
    return np.round(array, 5).tolist()


def learn(names: list[str]) -> tuple[dict[str, Any], list[str]]:
    """The tables from the chorales ``names`` and the names music21 could not read."""
    read: list[ChoraleHarmony] = []
    unread: list[str] = []
    for name in names:
        chorale = read_chorale(name)
        if chorale is None:
            unread.append(name)
        else:
            read.append(chorale)
    return count(read), unread


def learned_names(names: list[str]) -> Iterator[str]:
    held = set(held_out(names))
    return (name for name in names if name not in held)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, help="learn from the first N training chorales")
    parser.add_argument("--out", type=Path, default=TABLES_PATH)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    names = chorale_names()
    training = list(learned_names(names))[: args.limit]
    tables, unread = learn(training)
    seconds = time.perf_counter() - started
    document = {
        "source": "music21 corpus: Bach chorales, corpus.chorales.Iterator order",
        "held_out_every": HELD_OUT_EVERY,
        "held_out": held_out(names),
        "learned_from": len(training) - len(unread),
        "unread": unread,
        "roles": list(ROLES),
        "tables": tables,
    }
    args.out.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    print(f"{len(training) - len(unread)} chorales learned, {len(unread)} unread, {seconds:.0f} s")


if __name__ == "__main__":
    main()
