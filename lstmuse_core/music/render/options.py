"""What to render and what came of it: `RenderOptions` (checked once) and `RenderResult`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.music.formats import (
    AUDIO_FORMATS,
    BACKING_PROGRAMS,
    BACKING_VOLUMES,
    BACKINGS,
    DEFAULT_MAX_BYTES,
    EXPORT_FORMATS,
    IMAGE_KINDS,
    MAX_MAX_BYTES,
    MIN_MAX_BYTES,
)
from lstmuse_core.music.midi import resolve_instrument, validate_bpm


@dataclass(frozen=True)
class RenderOptions:
    """How to perform a melody, which outputs to make, and how large they may be together.

    ``bpm``: quarter notes a minute (20-300); ``instrument``: a General MIDI
    program 0-127 or a name (``"flute"``), resolved into ``program``;
    ``audio_format``: "mp3", "ogg", "wav" or "none"; ``image``: "pianoroll",
    "score" (sheet music, needs LilyPond) or "none"; ``export``: "musicxml"
    (a score for notation programs), "abc" (a tune as folk players share
    them) or "none"; ``backing``: what plays the accompaniment of the
    chords given to `render_melody` in the MIDI file and the audio,
    "guitar", "piano", "accordion" (`BACKING_PROGRAMS` and `BACKING_VOLUMES`,
    resolved into ``backing_program`` and ``backing_volume``) or "none";
    ``chord_symbols``: whether those chords are also written as symbols
    (piano roll, scores, ABC); ``soundfont``: an .sf2
    file, else ``$LSTMUSE_SOUNDFONT``, else FluidR3_GM, else pretty_midi's
    TimGM6mb; ``max_bytes``: the cap for all files together, in bytes.
    This is the render boundary: everything is checked here, once, and not
    again by the functions that take these options.
    """

    audio_format: str = "mp3"
    image: str = "pianoroll"
    soundfont: Path | None = None
    max_bytes: int = DEFAULT_MAX_BYTES
    bpm: float = 120.0
    instrument: int | str = 0
    export: str = "none"
    backing: str = "none"
    chord_symbols: bool = True
    program: int = field(init=False)
    backing_program: int | None = field(init=False)
    backing_volume: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "bpm", validate_bpm(self.bpm))
        object.__setattr__(self, "program", resolve_instrument(self.instrument))
        # Front ends pass what users typed: accept any case, store lower case.
        audio_format = str(self.audio_format).strip().lower()
        if audio_format not in AUDIO_FORMATS:
            raise InvalidParameter(
                "audio_format", self.audio_format, "one of " + ", ".join(AUDIO_FORMATS)
            )
        image = str(self.image).strip().lower()
        if image not in IMAGE_KINDS:
            raise InvalidParameter("image", self.image, "one of " + ", ".join(IMAGE_KINDS))
        export = str(self.export).strip().lower()
        if export not in EXPORT_FORMATS:
            raise InvalidParameter("export", self.export, "one of " + ", ".join(EXPORT_FORMATS))
        backing = str(self.backing).strip().lower()
        if backing not in BACKINGS:
            raise InvalidParameter("backing", self.backing, "one of " + ", ".join(BACKINGS))
        object.__setattr__(self, "backing_program", BACKING_PROGRAMS.get(backing))
        object.__setattr__(self, "backing_volume", BACKING_VOLUMES.get(backing, 100))
        if not isinstance(self.chord_symbols, bool):
            raise InvalidParameter("chord_symbols", self.chord_symbols, "yes or no")
        if isinstance(self.max_bytes, bool) or not isinstance(self.max_bytes, int):
            raise InvalidParameter("max_bytes", self.max_bytes, "a whole number of bytes")
        if not MIN_MAX_BYTES <= self.max_bytes <= MAX_MAX_BYTES:
            raise InvalidParameter(
                "max_bytes",
                self.max_bytes,
                f"from {MIN_MAX_BYTES} bytes to {MAX_MAX_BYTES} bytes (1 GiB)",
            )
        soundfont = self.soundfont
        if soundfont is not None and not isinstance(soundfont, Path):
            if not isinstance(soundfont, str) or not soundfont.strip():
                raise InvalidParameter("soundfont", soundfont, "the path of an .sf2 file")
            soundfont = Path(soundfont)
        object.__setattr__(self, "audio_format", audio_format)
        object.__setattr__(self, "image", image)
        object.__setattr__(self, "export", export)
        object.__setattr__(self, "backing", backing)
        object.__setattr__(self, "soundfont", soundfont)


@dataclass(frozen=True)
class RenderResult:
    """The files `render_melody` made: the MIDI file always, the others as asked and made.

    ``made``: each other file by its kind (``audio``, ``image``, ``musicxml``, ``abc``),
    in the order the renderers are listed; ``problems``: one human-readable
    line per output that could not be made.
    """

    midi: Path
    made: Mapping[str, Path] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def audio(self) -> Path | None:
        return self.made.get("audio")

    @property
    def image(self) -> Path | None:
        return self.made.get("image")

    @property
    def musicxml(self) -> Path | None:
        return self.made.get("musicxml")

    @property
    def by_kind(self) -> dict[str, Path]:
        """Every file made by its kind, MIDI first."""
        return {"midi": self.midi, **self.made}

    @property
    def paths(self) -> list[Path]:
        """Every file made, MIDI first."""
        return list(self.by_kind.values())

    @property
    def total_bytes(self) -> int:
        """The size of all files made together, in bytes."""
        return sum(p.stat().st_size for p in self.paths)
