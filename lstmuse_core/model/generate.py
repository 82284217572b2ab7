"""Sampling melodies from a trained bundle, fast, one symbol per step.

The network runs on float32 arrays (`lstmuse_core.model.stepper`), fed the
seed melody and then one sampled symbol per step while its LSTM state is
carried, in one compiled loop (`lstmuse_core.model.compiled`). Many melodies
are sampled together as one batch: each row has its own plan (meter, mode,
length, primer) and its own random generator, so a melody depends only on
its plan and seed, not on what else was in the batch.

Where the bar is. Every melody starts on a bar line, and each step tells the
network its position in the bar, what it played one and two bars ago and how
many bars remain (`lstmuse_core.model.conditioning`):

* ``bars=N``: the melody is exactly N bars after its seed's bars; the network
  is told the bars remaining, so it cadences in the last one. Without a seed,
  players count the bars after a pickup (anacrusis), and the network opens
  most songs with one (152 of 200 folk and 169 of 200 irish ``bars=8``
  replies were 7 bars and a pickup when the pickup's bar counted as bar 1).
  So every candidate but the first opens as its network does: its first new
  symbol is drawn first, and where that is not a note on the first bar line the
  candidate is planned with one bar more, the first a pickup bar
  (`MelodyPlan.pickup`, `MelodyGenerator._candidate_rows`). A candidate whose
  opening fits its plan (a pickup where one is planned, a note on the first bar
  line where none is) is preferred (`MelodyPlan.counts_bars`): all 200 of those
  replies count 8 bars as a player does.
* free length: the network ends the song, but only at a bar line and not
  before ``min_bars``; two bars before the step cap it is told that two bars
  remain, so a melody that runs long still ends on a cadence at a bar line,
  never cut mid-bar.

Candidates. Each melody can be sampled as ``candidates`` rows of the same batch
(seeds derived from its own; candidate 0 is the melody sampled alone), and the
one with the best `musical_score` is kept: it ends on the mode's tonic on a
strong beat, and it repeats a figure a bar or two later, as folk tunes do. The
network writes every candidate; the score only chooses among them
(`bench/musical_bench.py` measures the network alone and with the choice).
A candidate with a note always wins over one of rests only: a one-bar melody
is often all rests (the network opens songs with a pickup; 91 of 120 folk
requests had no candidate with a note), so when none has one (or, of
several, none opens as its plan says: see ``bars=N`` above),
`EXTRA_CANDIDATES` more are drawn, and if still none has a note, the first step
after the seed becomes the mode's tonic, held to the end (`_tonic_held`).

For speed, every input that does not depend on what is sampled (positions,
bars remaining, where the lookbacks and the end may fall) is computed for all
steps before the loop, each row's uniforms are drawn in one call, the
temperature is folded into the output layer, the loop itself is compiled
(`lstmuse_core.model.compiled`), and a batch of 8 rows or more is cut into a
part per core (`lstmuse_core.model.cores`); ``bench/generation_bench.py``
measures it.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache, cached_property
from pathlib import Path
from typing import NamedTuple

import numpy as np

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.limits import (
    SAMPLER_MAX_STEPS,
    SAMPLER_MAX_TEMPERATURE,
    SAMPLER_MAX_TOP_K,
    SAMPLER_MIN_TEMPERATURE,
)
from lstmuse_core.model.bundle import (
    MAX_TRIPLET_BIAS,
    Bundle,
    bundle_folder,
    bundle_from_path,
    load_bundle,
)
from lstmuse_core.model.compiled import sample_rows
from lstmuse_core.model.conditioning import (
    PART_NONE,
    REMAINING_UNKNOWN,
    Conditioning,
    form_inputs,
    remaining_class,
)
from lstmuse_core.model.cores import on_every_core
from lstmuse_core.model.stepper import LstmStepper, context_index
from lstmuse_core.music.encoding import (
    HOLD,
    SONG_END,
    TRIPLET,
    TRIPLET_STEPS,
    Vocabulary,
    is_pitch,
)
from lstmuse_core.music.form import Form, TuneForm, tune_form
from lstmuse_core.music.keys import MODE_TONICS, MODES
from lstmuse_core.music.meter import Meter

MIN_FREE_BARS = 4  # a free-length melody is at least this many bars, seed included
DEFAULT_MAX_STEPS = 512  # a free-length melody's cap, seed included
COUNTDOWN_BARS = 2  # a free melody is told this many bars remain before its cap
# What every front end samples per melody (see "Candidates" above). 6, not 4, since
# candidates also serve the bar count (``bars=N``): folk bars=8 over 200 seeds ended
# on the tonic 0.91 of the time with 4 candidates and the bar count right 0.24; with
# the bar count chosen too, 4 candidates gave 0.81 tonic endings, 5 0.85, 6 0.88
# (6/8 dorian: 0.53 before; 0.40, 0.46, 0.52).
CANDIDATES = 6
EXTRA_CANDIDATES = 12  # drawn only for a melody none of whose candidates fits (see above)
_DRAW_STREAM = 1  # random stream of a melody's meter and mode draw (0: its notes)


@cache
def _told_form(form: TuneForm) -> tuple[np.ndarray, np.ndarray]:
    """`form_inputs` of a laid-out form, made once: a batch holds few layouts and many rows."""
    remaining, part = form_inputs(form.sections, form.written_steps, form.bar_steps)
    remaining.flags.writeable = part.flags.writeable = False
    return remaining, part


@dataclass(frozen=True)
class SamplingControls:
    """How to pick each next symbol; validated, so the message names the bad one."""

    temperature: float = 1.0
    top_k: int = 0  # 0: off
    top_p: float = 1.0  # 1.0: off
    # The triplet marker drawn at its temperature-1 chance (`sample_rows`); False tempers
    # it like every symbol, as the sampler did before (bench/triplet_rates.py compares).
    triplets_untempered: bool = True
    # Added to the marker's logit (`triplet_calibration`); None: the bundle's own offset.
    triplet_bias: float | None = None

    def __post_init__(self) -> None:
        if not SAMPLER_MIN_TEMPERATURE <= self.temperature <= SAMPLER_MAX_TEMPERATURE:
            raise InvalidParameter(
                "temperature",
                self.temperature,
                f"a number from {SAMPLER_MIN_TEMPERATURE} to {SAMPLER_MAX_TEMPERATURE}",
            )
        if not 0 <= self.top_k <= SAMPLER_MAX_TOP_K:
            raise InvalidParameter(
                "top_k", self.top_k, f"0 (off) or a whole number up to {SAMPLER_MAX_TOP_K}"
            )
        if not 0.0 < self.top_p <= 1.0:
            raise InvalidParameter("top_p", self.top_p, "a number above 0 and at most 1 (1: off)")
        if self.triplet_bias is not None and not abs(self.triplet_bias) <= MAX_TRIPLET_BIAS:
            raise InvalidParameter(
                "triplet_bias",
                self.triplet_bias,
                f"a number from -{MAX_TRIPLET_BIAS:g} to {MAX_TRIPLET_BIAS:g}",
            )


# Below 1 by a margin float32 rounding cannot close: ``uniform * total`` stays
# under the last cumulative weight, so the inverse CDF never runs off the end
# onto a symbol of weight 0 (a masked delimiter or hold). It shifts the odds by
# about 1e-6, far below anything a listener or a test can tell.
_BELOW_ONE = 1.0 - 2.0**-20


@dataclass(frozen=True)
class MelodyPlan:
    """One melody to sample: meter, mode, random seed, seed melody and length.

    primer: the seed melody (model symbols, starting on a bar line). bars:
    new bars after the primer (the primer's last bar completed first); None
    lets the network end the song, at a bar line, after at least
    ``min_bars`` bars and at most ``max_steps`` steps, primer included.
    pickup: the first bar is a pickup bar, one more than ``bars`` (a melody
    without a primer whose ``bars`` are counted after its anacrusis).
    form: the parts to write (`Form`), each ``bars`` long (the primer opens the
    first); the network writes each part once, its endings after it, and is
    told at every bar the bars left in its part (`tune_form`).
    """

    meter: Meter
    mode: str
    seed: int
    primer: tuple[str, ...] = ()
    bars: int | None = None
    max_steps: int = DEFAULT_MAX_STEPS
    min_bars: int = MIN_FREE_BARS
    pickup: bool = False
    form: Form | None = None

    @property
    def bar_steps(self) -> int:
        return self.meter.bar_steps

    # Cached: the sampler reads these for every row many times (a plan is frozen).
    @cached_property
    def tune_form(self) -> TuneForm | None:
        """The form laid out for this plan's bars, meter and pickup (None: one line)."""
        if self.form is None or self.bars is None:
            return None
        return tune_form(self.form, self.bars, self.bar_steps, self.pickup)

    @property
    def primer_bars(self) -> int:
        return -(-len(self.primer) // self.bar_steps)

    @cached_property
    def last_step(self) -> int:
        """Where the melody ends at the latest (its exact length with ``bars``)."""
        bar = self.bar_steps
        tune_form = self.tune_form
        if tune_form is not None:
            return tune_form.written_steps
        if self.bars is not None:
            return (self.primer_bars + self.bars + self.pickup) * bar
        return max(self.max_steps // bar, self.primer_bars + 1, self.min_bars) * bar

    @property
    def first_end(self) -> int:
        """The first step at which the melody may end."""
        if self.bars is not None:
            return self.last_step
        return max(self.min_bars, self.primer_bars + 1) * self.bar_steps

    @property
    def may_open_with_pickup(self) -> bool:
        """Whether a pickup bar may be planned: ``bars`` given, no primer, and one bar
        more still within the sampler's cap."""
        return (
            self.bars is not None
            and not self.primer
            and not self.pickup
            and self.last_step + self.bar_steps <= SAMPLER_MAX_STEPS
        )

    def with_pickup(self) -> MelodyPlan:
        """This plan with a pickup bar before its ``bars`` (see `pickup`)."""
        return replace(self, pickup=True)

    def counts_bars(self, symbols: Sequence[str]) -> bool:
        """Whether ``symbols`` open as planned, so ``bars`` counts what a player counts:
        with a pickup bar, the first note falls inside it, after its bar line; without
        one (and without a primer), the first note is on the first bar line."""
        if self.primer or self.bars is None:
            return True
        first = next((step for step, symbol in enumerate(symbols) if is_pitch(symbol)), None)
        if first is None:
            return False
        return 0 < first < self.bar_steps if self.pickup else first == 0


class SampledMelody(NamedTuple):
    """A sampled melody: its symbols (model key space, primer included), meter and mode.

    With a ``form``, ``symbols`` are the tune as the network wrote it (each part once,
    endings after it); `played` is the tune as heard.
    """

    symbols: list[str]
    meter: Meter
    mode: str
    form: TuneForm | None = None

    @property
    def played(self) -> list[str]:
        """The symbols as played: repeats played out (the same as ``symbols`` without a form)."""
        return self.form.play(self.symbols) if self.form is not None else list(self.symbols)


def musical_score(symbols: Sequence[str], meter: Meter, mode: str) -> int:
    """How a candidate is chosen: 1 for ending on the tonic on a strong beat, 1 for a
    4-note figure repeated one or two bars later (`lstmuse_core.music.musicality`)."""
    from lstmuse_core.music.musicality import cadence_and_repeat

    return cadence_and_repeat(symbols, meter, mode)


def _score(plan: MelodyPlan, symbols: Sequence[str]) -> int:
    """`musical_score`, or for a tune with a form `form_score` (its parts)."""
    tune_form = plan.tune_form
    if tune_form is None:
        return musical_score(symbols, plan.meter, plan.mode)
    from lstmuse_core.music.form_measures import form_score

    return form_score(symbols, tune_form, plan.meter, plan.mode)


def _has_note(symbols: Sequence[str]) -> bool:
    return any(is_pitch(symbol) for symbol in symbols)


Candidate = tuple[MelodyPlan, list[str]]


def _best(options: Sequence[Candidate]) -> Candidate:
    """Of (plan, melody) candidates, the one with a note, bars counted as planned
    (`MelodyPlan.counts_bars`) and the best `musical_score`; max() keeps the first of
    equals, so with no better one the plain seed's melody (one candidate: that one)."""
    if len(options) == 1:
        return options[0]
    # Only the candidates that fit as well as the best one does are scored (a quarter of
    # them are not, in 6/8 irish bars=16 and AABB): no other could win.
    fits = [(_has_note(melody), plan.counts_bars(melody)) for plan, melody in options]
    best_fit = max(fits)
    contenders = [option for option, fit in zip(options, fits, strict=True) if fit == best_fit]
    if len(contenders) == 1:
        return contenders[0]
    return max(contenders, key=lambda option: _score(option[0], option[1]))


def _fits(option: Candidate) -> bool:
    plan, melody = option
    return _has_note(melody) and plan.counts_bars(melody)


def _opens_on_the_bar_line(symbol: str) -> bool:
    """Whether a melody's first new symbol sounds on the first bar line (a note, or a
    triplet group, whose first slot the network fills with a note)."""
    return is_pitch(symbol) or symbol == TRIPLET


def _tonic_held(symbols: list[str], plan: MelodyPlan, pitches: Sequence[int]) -> list[str]:
    """``symbols`` with the first step after the seed the mode's tonic, held to the end:
    the vocabulary's tonic nearest the middle of its range (model key space)."""
    tonic = MODE_TONICS[plan.mode]
    middle = (min(pitches) + max(pitches)) / 2
    tonics = [p for p in pitches if p % 12 == tonic] or list(pitches)
    pitch = min(tonics, key=lambda p: abs(p - middle))
    start = len(plan.primer)
    return [*symbols[:start], str(pitch), *[HOLD] * (len(symbols) - start - 1)]


class MelodyGenerator:
    """A style's network ready to sample; see `load_generator`."""

    def __init__(
        self,
        vocabulary: Vocabulary,
        stepper: LstmStepper,
        conditioning: Conditioning,
        bundle: Bundle | None = None,
    ) -> None:
        self.bundle = bundle
        self.vocabulary = vocabulary
        self.stepper = stepper
        self.conditioning = conditioning
        self._hold = self.vocabulary.index[HOLD]
        self._end = self.vocabulary.index[SONG_END]

    @classmethod
    def from_bundle(cls, bundle: Bundle) -> MelodyGenerator:
        """A bundle's generator, read from its weights.npz (no Keras)."""
        stepper = LstmStepper.from_weights(bundle.sampler_weights(), bundle.conditioning)
        return cls(bundle.vocabulary, stepper, bundle.conditioning, bundle)

    @property
    def version(self) -> str:
        return self.bundle.version if self.bundle else "unsaved"

    @property
    def style(self) -> str:
        return self.bundle.style if self.bundle else "unsaved"

    @property
    def default_temperature(self) -> float:
        return self.bundle.default_temperature if self.bundle else 1.0

    @property
    def triplet_bias(self) -> float:
        """The bundle's calibrated offset to the triplet marker's logit (0: none)."""
        return self.bundle.triplet_bias if self.bundle else 0.0

    def check_primer(self, primer: Sequence[str], parameter: str = "seed") -> None:
        """Raise naming the first symbol the model does not know (e.g. a pitch out of range)."""
        for position, symbol in enumerate(primer, start=1):
            if symbol not in self.vocabulary or symbol == SONG_END:
                pitches = self.vocabulary.pitches
                raise InvalidParameter(
                    parameter,
                    symbol,
                    f"the {self.style} model knows pitches {min(pitches)}-{max(pitches)} "
                    "(in C major / A minor), '_' and 'r'",
                    hint=f"symbol {position} of the seed melody after moving it to C",
                )

    def plan(
        self,
        seed: int,
        *,
        meter: Meter | None = None,
        mode: str | None = None,
        primer: Sequence[str] = (),
        bars: int | None = None,
        max_steps: int = DEFAULT_MAX_STEPS,
        min_bars: int = MIN_FREE_BARS,
        meters_allowed: Sequence[Meter] | None = None,
        form: Form | None = None,
    ) -> MelodyPlan:
        """A plan for one melody; a meter or mode not given is drawn from the style's songs.

        The draw uses the melody's own seed (its own random stream), so the
        same seed gives the same meter and mode. ``meters_allowed`` narrows the
        draw (a request's cost was checked for bars of some length).
        """
        if meter is not None:
            self.conditioning.meter_id(meter, self.style)
        if mode is not None:
            self.conditioning.mode_id(mode, self.style)
        if meter is None or mode is None:
            drawn_meter, drawn_mode = self.conditioning.draw(
                np.random.default_rng([seed, _DRAW_STREAM]),
                meters=None if meter is not None else meters_allowed,
            )
            meter, mode = meter or drawn_meter, mode or drawn_mode
        if form is not None and bars is None:
            raise InvalidParameter("bars", bars, "a part length in bars with a form")
        return MelodyPlan(meter, mode, seed, tuple(primer), bars, max_steps, min_bars, form=form)

    def sample(
        self,
        n: int = 1,
        *,
        bars: int | None = None,
        temperature: float = 1.0,
        seed: int = 0,
        top_k: int = 0,
        top_p: float = 1.0,
        primer: Sequence[str] = (),
        meter: Meter | None = None,
        mode: str | None = None,
        max_steps: int = DEFAULT_MAX_STEPS,
        min_bars: int = MIN_FREE_BARS,
        seeds: Sequence[int] | None = None,
        primers: Sequence[Sequence[str]] | None = None,
        candidates: int = 1,
    ) -> list[SampledMelody]:
        """Sample ``n`` melodies; melody ``i`` uses seed ``seed + i`` (or ``seeds[i]``).

        See `plan` and `sample_plans`; ``primers`` gives one primer per melody.
        """
        if not 1 <= n <= 1024:
            raise InvalidParameter("count", n, "1 to 1024 melodies")
        row_seeds = list(seeds) if seeds is not None else [seed + i for i in range(n)]
        row_primers = [list(p) for p in primers] if primers is not None else [list(primer)] * n
        if len(row_primers) != n or len(row_seeds) != n:
            raise ValueError("give one primer and one seed per melody")
        plans = [
            self.plan(
                s,
                meter=meter,
                mode=mode,
                primer=p,
                bars=bars,
                max_steps=max_steps,
                min_bars=min_bars,
            )
            for s, p in zip(row_seeds, row_primers, strict=True)
        ]
        return self.sample_plans(plans, SamplingControls(temperature, top_k, top_p), candidates)

    def sample_plans(
        self, plans: Sequence[MelodyPlan], controls: SamplingControls, candidates: int = 1
    ) -> list[SampledMelody]:
        """One melody per plan: the best of its ``candidates`` by `musical_score`."""
        if not 1 <= candidates <= 16:
            raise InvalidParameter("candidates", candidates, "1 to 16 per melody")
        for plan in plans:
            self.check_primer(plan.primer)
            if not 1 <= plan.last_step <= SAMPLER_MAX_STEPS:
                raise InvalidParameter(
                    "steps", plan.last_step, f"1 to {SAMPLER_MAX_STEPS} 16th notes"
                )
        rows = self._candidate_rows(
            [(plan, j) for plan in plans for j in range(candidates)], controls
        )
        sampled = self._sample_rows([p for p, _ in rows], [s for _, s in rows], controls)
        options = [
            list(zip([p for p, _ in rows[span]], sampled[span], strict=True))
            for span in (slice(n * candidates, (n + 1) * candidates) for n in range(len(plans)))
        ]
        best = [_best(of_plan) for of_plan in options]
        # Rare: 1-5 in 200 replies of bars=8 count their bars wrong. One candidate stands
        # for the network alone: it gets more only when it has no note. The extra rows of
        # every such melody are one batch (a melody depends only on its own rows' seeds).
        short = [
            number
            for number, option in enumerate(best)
            if not _has_note(option[1]) or (candidates > 1 and not _fits(option))
        ]
        extra = self._candidate_rows(
            [(plans[number], candidates + j) for number in short for j in range(EXTRA_CANDIDATES)],
            controls,
        )
        if extra:
            melodies = self._sample_rows([p for p, _ in extra], [s for _, s in extra], controls)
            for at, number in enumerate(short):
                span = slice(at * EXTRA_CANDIDATES, (at + 1) * EXTRA_CANDIDATES)
                more = zip([p for p, _ in extra[span]], melodies[span], strict=True)
                best[number] = _best(options[number] + list(more))
        chosen: list[SampledMelody] = []
        for plan, option in zip(plans, best, strict=True):
            if not _has_note(option[1]):
                option = (plan, _tonic_held(option[1], plan, self.vocabulary.pitches))
            tune_form = option[0].tune_form
            symbols = tune_form.clean_starts(option[1]) if tune_form is not None else option[1]
            chosen.append(SampledMelody(symbols, plan.meter, plan.mode, tune_form))
        return chosen

    def _candidate_rows(
        self, numbered: Sequence[tuple[MelodyPlan, int]], controls: SamplingControls
    ) -> list[tuple[MelodyPlan, int | list[int]]]:
        """Each (plan, candidate number)'s row: its plan and random seed.

        Candidate 0 is the plain seed and its plan as given: one candidate is the
        melody sampled alone. Every other candidate opens as its network does: its
        first new symbol is drawn first, as the whole melody will draw it (the same
        uniform and inputs: bar 0 is told the same either way), and where that is
        not a note on the first bar line the candidate is planned with a pickup bar
        (`MelodyPlan.with_pickup`). Planning a pickup for all of them wasted most:
        the form input taught irish and scottish v002 to open a tune in parts on the
        bar line, and 130 of 200 irish (180 of 200 scottish) AABB candidates planned
        with a pickup did not count their bars.
        """
        rows: list[tuple[MelodyPlan, int | list[int]]] = [
            (plan, plan.seed if number == 0 else [plan.seed, number]) for plan, number in numbered
        ]
        open_to_pickup = [
            at
            for at, (plan, number) in enumerate(numbered)
            if number >= 1 and plan.may_open_with_pickup
        ]
        if open_to_pickup:
            openings = self._sample_rows(
                [rows[at][0] for at in open_to_pickup],
                [rows[at][1] for at in open_to_pickup],
                controls,
                first_step_only=True,
            )
            for at, opening in zip(open_to_pickup, openings, strict=True):
                if not opening or not _opens_on_the_bar_line(opening[0]):
                    rows[at] = (rows[at][0].with_pickup(), rows[at][1])
        return rows

    def _sample_rows(
        self,
        plans: Sequence[MelodyPlan],
        seeds: Sequence[int | list[int]],
        controls: SamplingControls,
        first_step_only: bool = False,
    ) -> list[list[str]]:
        """One melody per row, the rows cut into a part per core (`on_every_core`);
        ``first_step_only``: only each melody's first new symbol, drawn as in the whole."""
        parts = on_every_core(
            lambda rows: self._sample_part(
                plans[rows.start : rows.stop],
                seeds[rows.start : rows.stop],
                controls,
                first_step_only,
            ),
            len(plans),
        )
        return [melody for part in parts for melody in part]

    def _sample_part(
        self,
        plans: Sequence[MelodyPlan],
        seeds: Sequence[int | list[int]],
        controls: SamplingControls,
        first_step_only: bool = False,
    ) -> list[list[str]]:
        """All rows in lock step by song step, primer and new symbols alike.

        Each row's input is the delimiter, its primer, then what it samples.
        Everything that does not depend on what is sampled is computed here for
        every song step; the loop itself is compiled
        (`lstmuse_core.model.compiled.sample_rows`). Row ``r`` draws its
        uniforms up front from its own generator and uses the ``k``-th for its
        ``k``-th new symbol, so a melody does not depend on the rest of the batch.
        The rows go longest first, so the loop stops stepping each melody once it and
        every shorter one are done (a tune opening on the bar line is a bar shorter
        than one with a pickup).
        """
        order = sorted(range(len(plans)), key=lambda row: -plans[row].last_step)
        if order != list(range(len(plans))):
            melodies = self._sample_part(
                [plans[row] for row in order],
                [seeds[row] for row in order],
                controls,
                first_step_only,
            )
            in_place: list[list[str]] = [[] for _ in order]
            for melody, row in zip(melodies, order, strict=True):
                in_place[row] = melody
            return in_place
        n = len(plans)
        stepper, conditioning = self.stepper, self.conditioning
        primer_lengths = np.array([len(p.primer) for p in plans], dtype=np.int64)
        bar = np.array([p.bar_steps for p in plans], dtype=np.int64)
        last = np.array([p.last_step for p in plans], dtype=np.int64)  # the inputs read it
        # Where sampling stops: the first new symbol only, or the melody's end. The first
        # uniform of a row's stream is the same however many are drawn.
        stop = np.minimum(last, primer_lengths + 1) if first_step_only else last
        first_end = np.array([p.first_end for p in plans], dtype=np.int64)
        free = np.array([p.bars is None for p in plans])
        new_steps = int((stop - primer_lengths).max())
        uniforms = np.empty((new_steps, n), np.float32)
        for row, seed in enumerate(seeds):
            uniforms[:, row] = np.random.default_rng(seed).random(new_steps) * _BELOW_ONE

        # The song so far, one row per melody (flat: the loop reads it by flat index);
        # two extra columns stand for "before the song": a lookback there reads the
        # delimiter, a repeat test there never matches.
        steps = int(stop.max())
        width = steps + 2
        nothing, never = width - 1, width - 2
        history = np.zeros((n, width), dtype=np.int64)
        history[:, nothing], history[:, never] = self._end, -1
        for row, plan in enumerate(plans):
            history[row, : len(plan.primer)] = self.vocabulary.encode(plan.primer)
        row_starts = np.arange(n) * width

        song_steps = np.broadcast_to(np.arange(steps)[:, None], (steps, n))
        bars_done = song_steps // bar
        told = np.where(free, bars_done >= last // bar - COUNTDOWN_BARS, True)
        remaining = np.where(told, remaining_class(bars_done, last // bar), REMAINING_UNKNOWN)
        part = np.full((steps, n), PART_NONE, dtype=np.int64)
        for row, plan in enumerate(plans):
            # A tune with a form is told the bars left in its part and (a network with
            # the form input) which part and role, as training told the tunes it read.
            tune_form = plan.tune_form
            if tune_form is not None:
                told, parts = _told_form(tune_form)
                written = min(plan.last_step, steps)
                remaining[:written, row] = told[:written]
                if stepper.part_classes > 1:
                    part[:written, row] = parts[:written]

        def at(offset: np.ndarray, before: int) -> np.ndarray:
            return row_starts + np.where(offset >= 0, offset, before)  # flat indices

        lengths = sample_rows(
            history.reshape(-1),
            width,
            primer_lengths,
            stop,
            at(song_steps - 1, nothing),
            np.stack([at(song_steps - bar, nothing), at(song_steps - 2 * bar, nothing)]),
            np.stack([at(song_steps - 1 - bar, never), at(song_steps - 1 - 2 * bar, never)]),
            context_index(song_steps % bar, remaining, 0),
            free & (song_steps % bar == 0) & (song_steps >= first_end),
            # A triplet group's 4 steps stay inside its bar and the melody.
            (song_steps % bar + TRIPLET_STEPS <= bar) & (song_steps + TRIPLET_STEPS <= last),
            uniforms,
            stepper.constant(
                np.array([conditioning.meter_id(p.meter) for p in plans]),
                np.array([MODES.index(p.mode) for p in plans]),
            ),
            np.arange(n) * stepper.part_classes + part,
            stepper.initial_state(n),
            stepper.network._replace(
                dense_kernel=stepper.network.dense_kernel / np.float32(controls.temperature),
                dense_bias=self._output_bias(controls) / np.float32(controls.temperature),
            ),
            controls.top_k,
            controls.top_p,
            self._hold,
            self._end,
            self.vocabulary.index.get(TRIPLET, -1),
            controls.triplets_untempered,
            controls.temperature,
        )
        return [
            [
                *plan.primer,
                *self.vocabulary.decode(
                    history[row, len(plan.primer) : len(plan.primer) + lengths[row]]
                ),
            ]
            for row, plan in enumerate(plans)
        ]

    def _output_bias(self, controls: SamplingControls) -> np.ndarray:
        """The output layer's bias, the triplet marker's offset added (a copy if any)."""
        bias = self.triplet_bias if controls.triplet_bias is None else controls.triplet_bias
        marker = self.vocabulary.index.get(TRIPLET)
        if not bias or marker is None:
            return self.stepper.network.dense_bias
        moved = self.stepper.network.dense_bias.copy()
        moved[marker] += np.float32(bias)
        return moved


_cache_lock = threading.Lock()
_cache: dict[Path, MelodyGenerator] = {}


def load_generator(
    style: str, models_dir: Path | None = None, version: str | None = None
) -> MelodyGenerator:
    """The generator of a style's active bundle (or a given version); names only.

    Loaded once per process and kept; a new ACTIVE version is picked up on
    the next call because the cache is keyed by the bundle folder. ``style``
    and ``version`` pass the one name check (`lstmuse_core.names`); a bundle
    folder path is the CLI's business: `load_generator_from_path`.
    """
    # Only ACTIVE is read per call: a cached bundle is not parsed and validated again.
    return _cached_generator(bundle_folder(style, models_dir, version).resolve())


def load_generator_from_path(path: str | Path) -> MelodyGenerator:
    """The generator of a bundle folder given as a path (the CLI's ``--style PATH``)."""
    return _cached_generator(bundle_from_path(path).path)


def _cached_generator(folder: Path) -> MelodyGenerator:
    with _cache_lock:
        if folder not in _cache:
            _cache[folder] = MelodyGenerator.from_bundle(load_bundle(folder))
        return _cache[folder]


def compile_sampler() -> None:
    """Compile the sampling loop now (or load it from numba's on-disk cache).

    The first melody of a fresh install would otherwise wait ~20 s for the
    compiler; a process that loads the cache waits ~1 s. Workers call this
    before their first job. It samples from tiny random networks of one and of
    two LSTM layers (each compiles its own loop), with and without the metrical
    inputs, so no bundle and no Keras is needed.
    """
    vocabulary = Vocabulary.from_songs([["60", "62"]])
    units, symbols = 4, len(vocabulary)
    gates = 4 * units
    rng = np.random.default_rng(0)

    def weights(*shape: int) -> np.ndarray:
        return rng.normal(0.0, 0.1, shape)

    for metrical in (True, False):
        conditioning = Conditioning({Meter(4, 4): 1}, {"major": 1}, metrical)
        sizes = conditioning.categories(symbols)
        for layers in (1, 2):
            stepper = LstmStepper(
                {name: weights(count, gates) for name, count in sizes.items()},
                weights(gates),
                weights(units, gates),
                [(weights(units, gates), weights(units, gates), weights(gates))] * (layers - 1),
                weights(units, symbols),
                weights(symbols),
            )
            MelodyGenerator(vocabulary, stepper, conditioning).sample(1, bars=1)
