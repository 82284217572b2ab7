"""Musical measures of melodies, as a musician would check them.

Each melody is symbols, one per 16th-note step (`lstmuse_core.music.encoding`),
*bar-aligned*: step 0 is a bar line (a pickup is preceded by a rest). Notes are
pitch onsets and what they hold; rests are never notes. The measures:

* metric alignment: long notes (`Meter.long_note_steps`: a half note in 4/4, a
  dotted quarter in 6/8) start on strong positions (1 and 3 of 4/4, 1 and 4
  of 6/8);
* cadence: the melody ends on its mode's tonic, on a strong position;
* repetition: a 4-note figure comes back one or two bars later (a folk tune's
  phrases are built from such repeats);
* scale: the share of notes in the mode's scale;
* the meters, modes and lengths (in bars) of a set of melodies.

`musical_report` sums these up for a set of melodies; `compare_reports` holds
a generated set against the corpus the model learnt from, with the targets
a trained model should meet.
"""

from __future__ import annotations

import bisect
import math
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.music.encoding import (
    HOLD,
    REST,
    TRIPLET,
    NoteEvent,
    StepTime,
    decode_symbols,
    melody_pitches,
    triplet_groups,
    validate_melody,
)
from lstmuse_core.music.keys import MODE_TONICS, parse_mode, scale_pitch_classes
from lstmuse_core.music.meter import Meter

# A repeated figure comes back this many bars later (a 3-bar distance is chance).
REPEAT_DISTANCES_IN_BARS = (1, 2)
FIGURE_NOTES = 4
# A tune shorter than this is a fragment rather than a melody.
MIN_BARS = 4

# Targets of `compare_reports` (generated against the corpus).
METRIC_ALIGNMENT_RATIO = 0.9
FIXED_LENGTH_TONIC_ENDINGS = 0.70
FREE_LENGTH_TONIC_ENDINGS_RATIO = 0.9
REPETITION_RATIO = 0.6
MAX_TOTAL_VARIATION = 0.15

# One melody of a set: its symbols, its time signature ("6/8") and its mode.
MelodyEntry = tuple[Sequence[str], Meter, str]

# Reels and hornpipes: where a triplet is the commonest ornament (issue 21).
REEL_METERS = (Meter(4, 4), Meter(2, 2))
# Generated triplets per bar within this ratio of the corpus's.
TRIPLET_RATE_RATIOS = (0.5, 1.5)


def triplet_bars(
    entries: Sequence[MelodyEntry], meters: Sequence[Meter] = REEL_METERS
) -> dict[str, Any]:
    """Bars with a triplet (`encoding.TRIPLET` group starting in them) among the melodies
    in ``meters``: ``{"melodies", "bars", "bars_with_triplets", "share"}`` (share None
    without bars). Bars counted from step 0, a bar line; a last short bar counts."""
    melodies = bars = with_triplets = 0
    for symbols, meter, _ in entries:
        if meter not in meters:
            continue
        melodies += 1
        bars += -(-len(symbols) // meter.bar_steps)
        with_triplets += len({step // meter.bar_steps for step in triplet_groups(symbols)})
    share = with_triplets / bars if bars else None
    return {"melodies": melodies, "bars": bars, "bars_with_triplets": with_triplets, "share": share}


def compare_triplet_rates(
    generated: Mapping[str, Any], corpus: Mapping[str, Any]
) -> dict[str, Any]:
    """Generated triplet bars against the corpus's: their ratio, met in `TRIPLET_RATE_RATIOS`."""
    ratio = (
        generated["share"] / corpus["share"]
        if corpus["share"] and generated["share"] is not None
        else None
    )
    low, high = TRIPLET_RATE_RATIOS
    return {
        "meters": [m.text for m in REEL_METERS],
        "generated": generated,
        "corpus": dict(corpus),
        "ratio": ratio,
        "target": f"{low:g}-{high:g}x the corpus's share of bars",
        "met": ratio is not None and low <= ratio <= high,
    }


def _notes(symbols: Sequence[str]) -> list[NoteEvent]:
    """The melody's notes (rests dropped); a note lasts until the next onset or rest."""
    return [event for event in decode_symbols(symbols) if event.pitch is not None]


def long_notes_on_strong_beats(symbols: Sequence[str], meter: Meter) -> tuple[int, int]:
    """``(long notes starting on a strong position, long notes)`` of one melody.

    A long note is a note (never a rest) lasting at least ``meter.long_note_steps``
    steps, held steps included; strong positions are ``meter.strong_positions``
    counted from step 0, a bar line.
    """
    long_notes = [note for note in _notes(symbols) if note.duration >= meter.long_note_steps]
    on_strong = sum(meter.is_strong(note.start) for note in long_notes)
    return on_strong, len(long_notes)


def ends_on_tonic(symbols: Sequence[str], meter: Meter, mode: str) -> bool:
    """Whether the last note (trailing rests ignored) is the mode's tonic on a strong position.

    The tonic is the mode's pitch class in the model's white-key scale
    (`MODE_TONICS`: C for major, D for dorian, A for minor), in any octave. A
    melody without notes does not end on the tonic.
    """
    return MelodyNotes(symbols).ends_on_tonic(meter, mode)


def repeats_a_figure(symbols: Sequence[str], meter: Meter) -> bool:
    """Whether some 4-note figure comes back exactly one or two bars later.

    The figure starting at note i is ``symbols[s:e]``: ``s`` is note i's onset,
    ``e`` the onset of note i+4 (so a rest before it belongs to the figure),
    or the end of note i+3 when it is the last note. It repeats when
    ``symbols[s + d:e + d] == symbols[s:e]`` for ``d`` one or two bars: the
    same pitches on the same steps with the same holds and rests. Figures
    start on notes and hold 4 of them, so rests and holds alone never count.
    """
    return MelodyNotes(symbols).repeats_a_figure(meter)


def cadence_and_repeat(symbols: Sequence[str], meter: Meter, mode: str) -> int:
    """`ends_on_tonic` plus `repeats_a_figure` (0-2), decoding the melody once: how the
    sampler chooses among candidates (`lstmuse_core.model.generate`)."""
    notes = MelodyNotes(symbols)
    return int(notes.ends_on_tonic(meter, mode)) + int(notes.repeats_a_figure(meter))


class MelodyNotes:
    """A melody's notes read once, for `ends_on_tonic` (of the melody or of its opening
    steps) and `repeats_a_figure`: the sampler scores each of a tune's candidates with
    several such measures (`form_measures.form_score`), and decoding was most of it.

    Only the notes' onsets are kept (rests dropped) and the last note's end. Without a
    triplet a note starts at each pitch symbol and lasts to the next symbol that is not
    a hold, as `decode_checked_symbols` reads it, so no `NoteEvent` is made; a melody
    with a triplet marker is decoded by `decode_symbols` (its notes have `Fraction` times).
    """

    __slots__ = ("_last_step", "_onsets", "_starts", "_symbols", "_triplets")

    def __init__(self, symbols: Sequence[str]) -> None:
        self._symbols = list(symbols)
        self._triplets: list[NoteEvent] | None = None
        # ``_starts``: the notes' onsets; ``_onsets``: the steps they fall in; ``_last_step``:
        # the step after the last note (rounded up), where its figure ends.
        if TRIPLET in self._symbols:
            self._triplets = _notes(self._symbols)
            self._starts: Sequence[StepTime] = [note.start for note in self._triplets]
            self._onsets = [math.floor(start) for start in self._starts]
            self._last_step = math.ceil(self._triplets[-1].end) if self._triplets else 0
            return
        validate_melody(self._symbols)  # as `decode_symbols` would: the same errors
        self._onsets = [
            step for step, symbol in enumerate(self._symbols) if symbol != HOLD and symbol != REST
        ]
        self._starts = self._onsets
        self._last_step = 0
        if self._onsets:
            last = self._onsets[-1]
            following = (s for s in range(last + 1, len(self._symbols)) if self._symbols[s] != HOLD)
            self._last_step = next(following, len(self._symbols))

    def ends_on_tonic(self, meter: Meter, mode: str, end: int | None = None) -> bool:
        """`ends_on_tonic` of the melody, or of ``symbols[:end]`` (its first ``end`` steps):
        its last note there is the last note starting before ``end``."""
        count = len(self._starts)
        if end is not None and end < len(self._symbols):
            if self._triplets is not None or end < 0:
                # A triplet group cut at ``end`` reads otherwise: decode what is there.
                return MelodyNotes(self._symbols[:end]).ends_on_tonic(meter, mode)
            count = bisect.bisect_left(self._starts, end)
        if count == 0:
            return False
        start = self._starts[count - 1]
        pitch = (
            self._triplets[count - 1].pitch
            if self._triplets is not None
            else int(self._symbols[self._onsets[count - 1]])
        )
        tonic = MODE_TONICS[parse_mode(mode)]
        return pitch is not None and pitch % 12 == tonic and meter.is_strong(start)

    def repeats_a_figure(self, meter: Meter) -> bool:
        """`repeats_a_figure` of the melody."""
        symbols, starts, length = self._symbols, self._onsets, len(self._symbols)
        if len(starts) < FIGURE_NOTES:
            return False
        # Figure i: from note i's step to note i+4's onset rounded up (a figure in a
        # triplet group: from its marker's step on), or to the last note's end.
        ends = (
            [*starts[FIGURE_NOTES:], self._last_step]
            if self._triplets is None
            else [*(math.ceil(t) for t in self._starts[FIGURE_NOTES:]), self._last_step]
        )
        shifts = [bars * meter.bar_steps for bars in REPEAT_DISTANCES_IN_BARS]
        for start, end in zip(starts[: len(ends)], ends, strict=True):
            first = symbols[start]
            for shift in shifts:
                # A repeat cut off by the melody's end is a shorter slice: never equal. Its
                # first symbol is compared alone first: most figures differ there.
                if (
                    end + shift <= length
                    and symbols[start + shift] == first
                    and symbols[start + shift : end + shift] == symbols[start:end]
                ):
                    return True
        return False


def share_in_scale(symbols: Sequence[str], tonic_pitch_class: int, mode: str) -> float:
    """The share of note onsets whose pitch class is in ``mode``'s scale on the tonic.

    Each onset counts once, however long it is held. A melody without notes
    has no note outside the scale: 1.0.
    """
    pitches = melody_pitches(symbols)
    if not pitches:
        return 1.0
    scale = scale_pitch_classes(tonic_pitch_class, parse_mode(mode))
    return sum(pitch % 12 in scale for pitch in pitches) / len(pitches)


def total_variation(counts_a: Mapping[str, float], counts_b: Mapping[str, float]) -> float:
    """Total variation distance of two distributions given as counts (or shares).

    Each is normalised to sum 1; the distance is ``0.5 * sum |p_a - p_b|``
    over the union of their keys (a key one lacks has share 0 there): 0 for
    the same distribution, 1 for distributions with no key in common.
    Raises ValueError for a negative count or counts that sum to 0.
    """
    shares_a, shares_b = _normalised(counts_a), _normalised(counts_b)
    keys = shares_a.keys() | shares_b.keys()
    return 0.5 * sum(abs(shares_a.get(key, 0.0) - shares_b.get(key, 0.0)) for key in keys)


def _normalised(counts: Mapping[str, float]) -> dict[str, float]:
    if any(count < 0 for count in counts.values()):
        raise ValueError(f"counts cannot be negative: {dict(counts)}")
    total = sum(counts.values())
    if total <= 0:
        raise ValueError("a distribution needs counts that sum to more than 0")
    return {key: count / total for key, count in counts.items()}


@dataclass(frozen=True)
class MusicalReport:
    """The musical measures of a set of melodies (shares are 0..1).

    * ``long_notes_on_strong_beats``: long notes starting on a strong position
      over all long notes of all melodies (pooled; 0.0 when ``long_notes`` is 0);
    * ``tonic_endings`` / ``repeated_figures``: the share of melodies that
      `ends_on_tonic` / `repeats_a_figure`;
    * ``meters`` / ``modes``: the share of melodies in each meter ("6/8") / mode;
    * ``bars``: the min, median and max length in bars (``len(symbols) / bar_steps``);
    * ``under_4_bars``: the share of melodies shorter than 4 bars;
    * ``off_bar_endings``: the share whose length is not a whole number of bars.
    """

    melodies: int
    long_notes: int
    long_notes_on_strong_beats: float
    tonic_endings: float
    repeated_figures: float
    meters: dict[str, float]
    modes: dict[str, float]
    bars: dict[str, float]
    under_4_bars: float
    off_bar_endings: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def musical_report(
    melodies: Sequence[MelodyEntry], endings: Sequence[int | None] | None = None
) -> MusicalReport:
    """The `MusicalReport` of ``(symbols, meter, mode)`` melodies (at least one).

    Meters are keyed by their text (``"6/8"``), modes by their name in `MODES`
    (``"aeolian"`` -> ``"minor"``). ``endings``: per melody, the step where the tune
    really ends when it is not its last (a corpus tune's ``Fine``, `Song.end`): its
    cadence is read there.
    """
    if not melodies:
        raise InvalidParameter("melodies", "[]", "give at least one melody")
    count = len(melodies)
    on_strong = long_notes = tonic_endings = repeats = under_4 = off_bar = 0
    meters: Counter[str] = Counter()
    modes: Counter[str] = Counter()
    bars: list[float] = []
    ends = list(endings) if endings is not None else [None] * count
    for (symbols, meter, mode_text), end in zip(melodies, ends, strict=True):
        mode = parse_mode(mode_text)
        strong, long = long_notes_on_strong_beats(symbols, meter)
        on_strong += strong
        long_notes += long
        tonic_endings += ends_on_tonic(symbols[:end] if end is not None else symbols, meter, mode)
        repeats += repeats_a_figure(symbols, meter)
        meters[meter.text] += 1
        modes[mode] += 1
        length = len(symbols) / meter.bar_steps
        bars.append(length)
        under_4 += length < MIN_BARS
        off_bar += len(symbols) % meter.bar_steps != 0
    return MusicalReport(
        melodies=count,
        long_notes=long_notes,
        long_notes_on_strong_beats=on_strong / long_notes if long_notes else 0.0,
        tonic_endings=tonic_endings / count,
        repeated_figures=repeats / count,
        meters={text: n / count for text, n in sorted(meters.items())},
        modes={mode: n / count for mode, n in sorted(modes.items())},
        bars={"min": min(bars), "median": statistics.median(bars), "max": max(bars)},
        under_4_bars=under_4 / count,
        off_bar_endings=off_bar / count,
    )


def _share_measure(generated: float, corpus: float, target: str, met: bool) -> dict[str, Any]:
    return {
        "generated": generated,
        "corpus": corpus,
        "ratio": generated / corpus if corpus else None,
        "target": target,
        "met": met,
    }


def _distribution(generated: dict[str, float], corpus: dict[str, float]) -> dict[str, Any]:
    distance = total_variation(generated, corpus)
    return {
        "generated": generated,
        "corpus": corpus,
        "distance": distance,
        "target": f"total variation <= {MAX_TOTAL_VARIATION}",
        "met": distance <= MAX_TOTAL_VARIATION,
    }


def compare_reports(
    generated: MusicalReport, corpus: MusicalReport, *, fixed_length: bool
) -> dict[str, dict[str, Any]]:
    """Each measure of ``generated`` against ``corpus``, with its target and whether it is met.

    Keys: ``metric_alignment``, ``cadence``, ``repetition``, ``meters``,
    ``modes``, ``length``; each holds ``generated``, ``corpus``, a ``ratio``
    (generated / corpus; None when the corpus share is 0) or a ``distance``
    (total variation), the ``target`` in words and ``met``. ``fixed_length``:
    the melodies were asked for a fixed number of bars (8), so the cadence has
    an absolute target and every melody must be whole bars; with free length
    the cadence is reported against the corpus only (``report_only``), and no
    melody may be under 4 bars or end off a bar line.
    """
    # Ratios are checked as products: a corpus share may be 0.
    if fixed_length:
        cadence = _share_measure(
            generated.tonic_endings,
            corpus.tonic_endings,
            f"tonic endings >= {FIXED_LENGTH_TONIC_ENDINGS}",
            generated.tonic_endings >= FIXED_LENGTH_TONIC_ENDINGS,
        )
    else:
        # A free-length melody stops wherever the model sings its end: reported, not required.
        cadence = _share_measure(
            generated.tonic_endings,
            corpus.tonic_endings,
            f"tonic endings >= {FREE_LENGTH_TONIC_ENDINGS_RATIO} x corpus (report only)",
            generated.tonic_endings >= FREE_LENGTH_TONIC_ENDINGS_RATIO * corpus.tonic_endings,
        )
    cadence["report_only"] = not fixed_length
    return {
        "metric_alignment": _share_measure(
            generated.long_notes_on_strong_beats,
            corpus.long_notes_on_strong_beats,
            f"long notes on strong beats >= {METRIC_ALIGNMENT_RATIO} x corpus",
            generated.long_notes_on_strong_beats
            >= METRIC_ALIGNMENT_RATIO * corpus.long_notes_on_strong_beats,
        ),
        "cadence": cadence,
        "repetition": _share_measure(
            generated.repeated_figures,
            corpus.repeated_figures,
            f"melodies with a repeated figure >= {REPETITION_RATIO} x corpus",
            generated.repeated_figures >= REPETITION_RATIO * corpus.repeated_figures,
        ),
        "meters": _distribution(generated.meters, corpus.meters),
        "modes": _distribution(generated.modes, corpus.modes),
        "length": _length(generated, corpus, fixed_length=fixed_length),
    }


def _length(
    generated: MusicalReport, corpus: MusicalReport, *, fixed_length: bool
) -> dict[str, Any]:
    def lengths(report: MusicalReport) -> dict[str, Any]:
        return {
            "bars": report.bars,
            "under_4_bars": report.under_4_bars,
            "off_bar_endings": report.off_bar_endings,
        }

    if fixed_length:
        target = "every melody whole bars"
        met = generated.off_bar_endings == 0
    else:
        target = f"no melody under {MIN_BARS} bars or ending off a bar line"
        met = generated.under_4_bars == 0 and generated.off_bar_endings == 0
    return {
        "generated": lengths(generated),
        "corpus": lengths(corpus),
        "target": target,
        "met": met,
    }
