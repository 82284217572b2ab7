"""What each command does, apart from how it reaches people (Discord or console).

A front end calls these coroutines and shows the returned text and files;
status updates come through a callback so Discord can edit one message and
the console can print a line.
"""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from bot.jobs import Jobs, Result
from bot.limits import JobLimits
from lstmuse_core.errors import InvalidParameter, JobFailed, LstmuseError, shown_value
from lstmuse_core.file_names import melody_file_stem, tune_file_stem
from lstmuse_core.jobs.progress import GENERATING, Progress
from lstmuse_core.jobs.results import (
    FILE_KINDS,
    GeneratedMelody,
    HarmonizeResult,
    MelodyResult,
    RetrainResult,
    RollbackResult,
)
from lstmuse_core.limits import MAX_SEED_STEPS, MAX_TEMPERATURE, MAX_TOTAL_STEPS, MIN_TEMPERATURE
from lstmuse_core.music.harmony.chart import chord_chart
from lstmuse_core.music.meter import describe_length, pickup_steps
from lstmuse_core.music.midi import step_seconds
from lstmuse_core.music.tempo import Tempo, melody_tempo
from lstmuse_core.music.tune_file import TUNE_FILE_ALLOWED, check_tune_file_size, read_tune_file
from lstmuse_core.names import check_version_name, fold_style_name
from lstmuse_core.request import HarmonizeRequest, MelodyRequest, RetrainRequest

log = logging.getLogger(__name__)
ROLLBACK_TIMEOUT_SECONDS = 60.0

Status = Callable[[str], Awaitable[None]]


async def _ignore(_: str) -> None:
    return None


@dataclass(frozen=True)
class MelodyPost:
    """One melody ready to post: files, the facts for the embed, and its request.

    request: the request that makes this melody alone (its own random seed);
    files: (file name, contents) in `FILE_KINDS` order: MIDI, audio, image, then any score
    (MusicXML) or ABC tune that export= asked for.
    """

    request: MelodyRequest
    style: str
    model_version: str
    melody: GeneratedMelody
    files: list[tuple[str, bytes]] = field(default_factory=list)

    @property
    def random_seed(self) -> int:
        return self.melody.random_seed

    @property
    def key(self) -> str:
        return self.melody.key

    @property
    def temperature(self) -> float:
        """The temperature it was sampled at (the style's default when none was asked)."""
        assert self.request.temperature is not None  # a `MelodyResult`'s request has one
        return self.request.temperature

    @property
    def symbols(self) -> tuple[str, ...]:
        """One symbol per 16th note, the seed melody included."""
        return self.melody.symbols

    @property
    def problems(self) -> tuple[str, ...]:
        return self.melody.problems

    @property
    def tempo(self) -> Tempo:
        """What it plays at: the asked bpm, else its style's tempo for its meter."""
        return melody_tempo(self.style, self.melody.meter, self.request.bpm)

    @property
    def length(self) -> str:
        """The melody's bars (`describe_length`: after the seed, as ``bars=`` counts them)
        and its seconds in all: ``8 bars of 3/4 after a 2-bar seed (24 s)``."""
        seed_steps = len(self.request.seed_melody)
        meter = self.melody.meter
        pickup = pickup_steps(self.melody.symbols, meter)
        bars = describe_length(self.melody.steps, seed_steps, meter, pickup)
        return f"{bars} ({self.melody.seconds(self.tempo.quarter_bpm):.0f} s)"

    @property
    def form(self) -> str:
        """Its form: ``AABB, 2 x 8 bars of 6/8, 16 bars played twice``."""
        assert self.melody.form is not None
        return self.melody.form.summary(self.melody.meter.text)

    @property
    def facts(self) -> dict[str, str]:
        r = self.request
        return (
            {
                "Style": self.style,
                "Temperature": f"{self.temperature:g}",
                "Key": self.key,
                "Tempo": self.tempo.text,
                "Length": self.length,
                **({"Form": self.form} if self.melody.form is not None else {}),
                "Random seed": str(self.random_seed),
                "Model": self.model_version,
                "Instrument": r.instrument,
            }
            | backing_fact(r.backing)
            | ({"Chords": "\n".join(self.chord_chart)} if self.melody.chords else {})
        )

    @property
    def chord_chart(self) -> list[str]:
        """The melody's chords, one line of eight bars each: ``| G | D7 | G | C D |``."""
        return chord_chart(self.melody.chords, self.melody.meter.bar_steps)

    def caption(self) -> str:
        return ", ".join(f"{k.lower()} {v}" for k, v in self.facts.items())


def backing_fact(backing: str) -> dict[str, str]:
    """``{"Backing": "guitar (the MIDI's 2nd track)"}``; nothing without one: a member
    with the MIDI file learns where the melody alone is."""
    return {} if backing == "none" else {"Backing": f"{backing} (the MIDI's 2nd track)"}


@dataclass(frozen=True)
class TunePost:
    """A member's tune harmonized, ready to post: its files and the reply's text.

    files: (file name, contents) in `FILE_KINDS` order, named after the member's file.
    """

    result: HarmonizeResult
    files: list[tuple[str, bytes]] = field(default_factory=list)

    @property
    def request(self) -> HarmonizeRequest:
        return self.result.request

    @property
    def chord_chart(self) -> list[str]:
        """The tune's chords, one line of eight bars each: ``| G | D7 | G | C D |``."""
        return chord_chart(self.result.chords, self.request.meter.bar_steps)

    @property
    def length(self) -> str:
        """Its bars as players count them (after a pickup) and its seconds in all."""
        request = self.request
        steps = len(request.symbols)
        pickup = pickup_steps(request.symbols, request.meter)
        bars = describe_length(steps, 0, request.meter, pickup)
        seconds = steps * step_seconds(request.tempo.quarter_bpm)
        return f"{bars} ({seconds:.0f} s)"

    @property
    def facts(self) -> dict[str, str]:
        request = self.request
        return {
            "Tune": request.name or "your tune",
            **({"Part": request.part} if shown_part(request.part) else {}),
            "Key": self.result.key,
            "Tempo": request.tempo.text,
            "Length": self.length,
            "Instrument": request.instrument,
        } | backing_fact(request.backing)

    def text(self, markdown: bool = True) -> str:
        """The reply: the facts on one line, then the chord chart, one line per eight bars."""
        facts = ", ".join(f"{name.lower()} {value}" for name, value in self.facts.items())
        chart = "\n".join(self.chord_chart) or "(no chords: the tune has no notes)"
        notes = "".join(f"\nNote: {problem}" for problem in self.result.problems)
        if markdown:
            return f"**Harmonized**: {facts}\nChords:\n```\n{chart}\n```{notes}"
        return f"Harmonized: {facts}\nChords:\n{chart}{notes}"


async def read_tune(
    request: HarmonizeRequest,
    name: str,
    size: int,
    contents: Callable[[], Awaitable[bytes]],
    given: Collection[str] = (),
) -> HarmonizeRequest:
    """``request`` with the tune of the member's file ``name`` of ``size`` bytes.

    The size is checked before ``contents`` is fetched (a download, a read),
    then the file is read in a limited child process, off the event loop
    (`lstmuse_core.music.tune_file`); ``given``: the options the member typed
    (their ``bpm`` wins over the file's). Refusals name the file.
    """
    check_tune_file_size(size, name)
    tune = await read_tune_file(await contents(), name)
    return request.with_tune(tune, name, given)


def shown_part(part: str) -> bool:
    """Whether the reply names the part read: not for a file of one part of one tune
    (`lstmuse_core.music.tune_file.Tune.source` then says only that)."""
    return bool(part) and part != "the only part"


def one_tune(names: Sequence[str]) -> str:
    """Refuse a command without a file; the first of the attached files (``names``) is
    the tune, and the note returned names the others, left out (one tune at a time)."""
    if not names:
        raise InvalidParameter(
            "tune", "nothing attached", f"one attached file: {TUNE_FILE_ALLOWED}"
        )
    left = names[1:]
    return f" (one tune at a time: {', '.join(left)} left out)" if left else ""


class LstmuseService:
    """The commands: melody, harmonize, styles, queue, cancel, and the admin ones."""

    def __init__(
        self,
        jobs: Jobs,
        limits: JobLimits,
        *,
        job_timeout: float = 300.0,
        train_timeout: float = 4 * 3600.0,
    ) -> None:
        self.jobs = jobs
        self.limits = limits
        self.job_timeout = job_timeout
        self.train_timeout = train_timeout
        self.cancelled: set[str] = set()  # cancelled while this process waited for them

    async def melody(
        self, user_id: int, request: MelodyRequest, status: Status = _ignore
    ) -> list[MelodyPost]:
        """Queue one request, report its progress, return its melodies as posts.

        See `_run_admitted` for the member's slot and what a refusal costs.
        """
        request = request.with_random_seed()
        await self._check_style(request)
        job_id = f"melody-{uuid.uuid4().hex}"
        temperature = (
            f"temperature {request.temperature:g}"
            if request.temperature is not None
            else "the style's temperature"
        )
        result = await self._run_admitted(
            user_id,
            job_id,
            lambda: self.jobs.submit_melody(job_id, request),
            MelodyResult,
            f"{request.style}, {temperature}, random seed {request.random_seed}",
            status,
        )
        return [await self._post(result, melody) for melody in result.melodies]

    async def harmonize(
        self, user_id: int, request: HarmonizeRequest, status: Status = _ignore
    ) -> TunePost:
        """Queue a tune read from a member's file, report its progress, return it harmonized.

        ``request`` carries its tune (`HarmonizeRequest.with_tune`): a front end
        reads the file (`lstmuse_core.music.tune_file`) before anything is queued.
        """
        if not request.symbols:
            raise InvalidParameter("tune", "", f"an attached file: {TUNE_FILE_ALLOWED}")
        job_id = f"harmonize-{uuid.uuid4().hex}"
        part = f" ({request.part})" if shown_part(request.part) else ""
        result = await self._run_admitted(
            user_id,
            job_id,
            lambda: self.jobs.submit_harmonize(job_id, request),
            HarmonizeResult,
            f"harmonizing {request.name or 'your tune'}{part}",
            status,
        )
        stem = tune_file_stem(request.name, _short_id(job_id))
        files = [
            (stem + PurePosixPath(reference).suffix, await self.jobs.fetch(reference))
            for kind in FILE_KINDS
            if (reference := result.files.get(kind))
        ]
        return TunePost(result, files)

    async def _run_admitted(
        self,
        user_id: int,
        job_id: str,
        submit: Callable[[], Awaitable[None]],
        result_type: type[Result],
        queued: str,
        status: Status,
    ) -> Result:
        """A member's job from their slot to its result: ``submit`` it, say it is
        ``queued`` (and its place in line), report its stages, wait for it.

        The member's slot is held until the job reaches a final state (done,
        failed, or cancelled when we stop waiting, so it never runs later);
        a request refused before it was queued costs no cooldown.
        """
        position = await self.limits.admit(user_id, job_id)
        try:
            await submit()
        except BaseException:
            await self.limits.refund(user_id, job_id)
            raise
        finished = False  # a final state was seen: done, failed, or cancelled by `wait`
        try:
            await status(f"Queued ({_ordinal(position)} in line): {queued}")

            async def on_stage(state: str, progress: Progress | None) -> None:
                if state in ("STARTED", "PROGRESS"):
                    await status(f"{(progress.stage if progress else GENERATING).capitalize()}...")

            try:
                result = await self.jobs.wait(job_id, result_type, on_stage, self.job_timeout)
            except JobFailed:
                finished = True
                raise
            finished = True
            if job_id in self.cancelled:
                raise JobFailed("the job was cancelled")
            await status("Rendering done, posting...")
            return result
        finally:
            self.cancelled.discard(job_id)
            if not finished:  # we stop watching (a status edit failed, a Redis blip...)
                await self._cancel_quietly(job_id)
            await self.limits.release(user_id, job_id)

    async def _cancel_quietly(self, job_id: str) -> None:
        """Best effort: a job nobody waits for must not run later and post to nobody."""
        try:
            await self.jobs.cancel(job_id)
        except LstmuseError:
            log.warning("could not cancel %s, which nobody waits for", job_id, exc_info=True)

    async def _check_style(self, request: MelodyRequest) -> None:
        """An unknown style, or a meter or mode its model does not know, is refused before
        anything is queued (from the published catalogue)."""
        catalogue = await self.jobs.catalogue()
        if not catalogue:
            return
        if request.style not in catalogue:
            raise InvalidParameter("style", request.style, f"one of {', '.join(sorted(catalogue))}")
        active = catalogue[request.style].active
        if active is None:
            return
        for name, value, known in (
            ("meter", request.meter.text if request.meter else None, active.meters),
            ("mode", request.mode, active.modes),
        ):
            if value is not None and known and value not in known:
                raise InvalidParameter(
                    name, value, f"one the {request.style} model knows: {', '.join(known)}"
                )

    async def _post(self, result: MelodyResult, melody: GeneratedMelody) -> MelodyPost:
        """Fetch the melody's files, named so that no two requests share a name."""
        files = []
        name = melody_file_stem(
            result.style, melody.random_seed, result.temperature, _short_id(result.job_id)
        )
        for kind in FILE_KINDS:
            reference = melody.files.get(kind)
            if reference:
                files.append(
                    (name + PurePosixPath(reference).suffix, await self.jobs.fetch(reference))
                )
        return MelodyPost(
            result.request.replace(random_seed=melody.random_seed, count=1),
            result.style,
            result.model_version,
            melody,
            files,
        )

    @staticmethod
    def reroll(post: MelodyPost) -> MelodyRequest:
        """Same settings, a new random seed."""
        return post.request.replace(random_seed=None, count=1)

    @staticmethod
    def variation(post: MelodyPost, step: float = 0.15) -> MelodyRequest:
        """Same seed melody, a nearby temperature, a new random seed."""
        played = post.temperature
        hotter = played + step
        temperature = hotter if hotter <= MAX_TEMPERATURE else played - step
        return post.request.replace(
            random_seed=None, count=1, temperature=round(max(MIN_TEMPERATURE, temperature), 2)
        )

    @staticmethod
    def continuation(post: MelodyPost, bars: int = 8) -> MelodyRequest:
        """This melody's last bars as the seed of ``bars`` more, in its meter, key and mode.

        The seed keeps whole bars (a melody starts on a bar line), within the
        per-melody step budget; a note held across the cut starts the seed.
        """
        meter = post.melody.meter
        bar = meter.bar_steps
        keep = min(MAX_SEED_STEPS, MAX_TOTAL_STEPS - bars * bar) // bar * bar
        if keep < 1:
            raise InvalidParameter(
                "bars",
                bars,
                f"a continuation that leaves room for a seed within {MAX_TOTAL_STEPS} 16th notes",
            )
        cut = max(0, len(post.symbols) - keep)
        tail = list(post.symbols[cut:])
        if tail and tail[0] == "_":  # the note sounding at the cut starts the seed
            tail[0] = next(s for s in reversed(post.symbols[:cut]) if s != "_")
        return post.request.replace(
            random_seed=None,
            count=1,
            seed_melody=tuple(tail),
            seed_bars=None,  # the tail is the seed: no cut to the first bars again
            bars=bars,
            steps=None,
            meter=meter,
            key=post.key,
            mode=None,
            form="none",  # ``bars`` more as one line: the tail is no tune's first part
        )

    async def styles(self) -> str:
        catalogue = await self.jobs.catalogue()
        if not catalogue:
            return "No styles are available yet (no worker has published its models)."
        lines = ["**Styles** (use `style=NAME`):"]
        for name, entry in sorted(catalogue.items()):
            active = entry.active
            quality = (
                f", {active.bits_per_symbol:.2f} bits/note-step held out"
                if active is not None and active.bits_per_symbol
                else ""
            )
            version = entry.active_version or "no active model"
            lines.append(f"- **{name}**: {entry.description} ({version}{quality})")
            if active is not None and active.meters:
                lines.append(
                    f"  meters {', '.join(active.meters)}; modes {', '.join(active.modes)}"
                )
        return "\n".join(lines)

    async def queue(self, user_id: int) -> str:
        mine = await self.limits.jobs_of(user_id)
        if not mine:
            return "You have no jobs in the queue."
        positions = [await self.limits.position(job) for job in mine]
        return "Your jobs: " + ", ".join(
            f"`{job[-8:]}` ({_ordinal(p)} in line)" if p else f"`{job[-8:]}`"
            for job, p in zip(mine, positions, strict=True)
        )

    async def cancel(self, user_id: int) -> str:
        mine = await self.limits.jobs_of(user_id)
        if not mine:
            return "You have no job to cancel."
        job_id = mine[-1]
        self.cancelled.add(job_id)  # before the await: a job finishing meanwhile is not posted
        await self.jobs.cancel(job_id)
        await self.limits.release(user_id, job_id)
        return f"Cancelled `{job_id[-8:]}` (if it had already started it finishes, unposted)."

    async def retrain(
        self,
        request: RetrainRequest,
        *,
        uploads: list[tuple[str, bytes]] | None = None,
        status: Status = _ignore,
    ) -> str:
        """Queue a retrain (the request is already validated), report progress, say the outcome."""
        style = request.style
        job_id = f"retrain-{uuid.uuid4().hex}"
        references = [
            await self.jobs.upload(job_id, _safe_name(i, name), data, 24 * 3600)
            for i, (name, data) in enumerate(uploads or [], start=1)
        ]
        await self.jobs.submit_retrain(job_id, request, references or None)
        await status(f"Retraining {style} ({request.preset}) is queued.")

        async def on_stage(state: str, progress: Progress | None) -> None:
            if progress is None:
                return
            epoch = progress.epoch
            if epoch is not None:
                await status(
                    f"Training {style}: epoch {epoch.epoch}/{epoch.max_epochs}, loss "
                    f"{epoch.loss_bits:.3f}, validation {epoch.val_loss_bits:.3f} bits, "
                    f"best {epoch.best_val_loss_bits:.3f}, at most "
                    f"{epoch.eta_seconds / 60:.0f} min left"
                    + (f" (on {epoch.device})" if epoch.device else "")
                )
            else:
                await status(f"Retraining {style}: {progress.stage}...")

        result = await self.jobs.wait(job_id, RetrainResult, on_stage, self.train_timeout)
        return (
            f"Retrained **{style}** -> {result.version}: held-out "
            f"{result.test_bits_per_symbol:.3f} bits/symbol after {result.epochs} "
            f"epochs. {result.note}."
        )

    async def models(self, style: str | None = None) -> str:
        style = style.strip().lower() if style else None  # names are case-insensitive
        catalogue = await self.jobs.catalogue()
        chosen = (
            {style: catalogue[style]} if style is not None and style in catalogue else catalogue
        )
        if style and style not in catalogue:
            return (
                f"No style named {shown_value(style)}; "
                f"known: {', '.join(sorted(catalogue)) or 'none'}."
            )
        lines = []
        for name, entry in sorted(chosen.items()):
            lines.append(f"**{name}** (active {entry.active_version}):")
            for version in entry.versions:
                bits, ngram = version.bits_per_symbol, version.ngram_bits_per_symbol
                songs = "?" if version.songs is None else version.songs
                lines.append(
                    f"- {version.version}: "
                    + (f"{bits:.3f} bits/symbol (9-gram {ngram:.3f}), " if bits and ngram else "")
                    + f"{songs} songs, {version.trained_at or ''}"
                )
        return "\n".join(lines) or "No models yet."

    async def rollback(self, style: str, version: str | None = None) -> str:
        """Make the previously active (or a named) version active; refused if it cannot run now.

        The job expires when we stop waiting, so a rollback nobody saw
        succeed never changes the models later.
        """
        style = fold_style_name(style)
        if version is not None:
            check_version_name(version)
        job_id = f"rollback-{uuid.uuid4().hex}"
        await self.jobs.submit_rollback(job_id, style, version, ROLLBACK_TIMEOUT_SECONDS)
        result = await self.jobs.wait(job_id, RollbackResult, None, ROLLBACK_TIMEOUT_SECONDS)
        return f"{style}: {result.active_version} is active again (was {result.was})."


def _short_id(job_id: str) -> str:
    """Six hex digits of the job, for file names: the end of the id `queue` shows, if hex."""
    tail = job_id[-6:]
    if re.fullmatch(r"[0-9a-f]{6}", tail):
        return tail
    return hashlib.sha256(job_id.encode()).hexdigest()[:6]


def _ordinal(number: int) -> str:
    suffix = (
        "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    )
    return f"{number}{suffix}"


def _safe_name(number: int, name: str) -> str:
    """Upload names become artifact names: keep the suffix, replace everything else."""
    suffix = PurePosixPath(name).suffix.lower()[:10]
    return f"upload{number:03d}{suffix if suffix[1:].isalnum() else ''}"
