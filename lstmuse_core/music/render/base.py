"""What every renderer is given (`RenderJob`) and how one is listed (`Renderer`).

A renderer is one function ``make(job, path) -> path`` that writes one file
from the melody (and the MIDI file already made from it), raising a
`LstmuseError` when its tool is missing or fails; `Renderer` says which
option value asks for it, the file's suffix and what to call it when it
cannot be made. `lstmuse_core.music.render.RENDERERS` lists them all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.music.form import TuneForm
from lstmuse_core.music.harmony import ChordSpan
from lstmuse_core.music.melody import Melody
from lstmuse_core.music.render.options import RenderOptions

if TYPE_CHECKING:
    import pretty_midi


@dataclass(frozen=True)
class RenderJob:
    """One melody to render: ``midi`` is the MIDI file made of it (for synthesis);
    ``title`` goes on pictures and scores; the first ``seed_steps`` 16th-note
    steps were the given seed melody; ``chords``: chord symbols for the scores."""

    melody: Melody
    midi: pretty_midi.PrettyMIDI
    options: RenderOptions
    title: str = ""
    seed_steps: int = 0
    chords: tuple[ChordSpan, ...] = ()
    form: TuneForm | None = None  # the melody's parts: scores write repeats, rolls mark parts


@dataclass(frozen=True)
class Renderer:
    """One output: made when ``options.<option> == value``, written as ``<stem>.<suffix>``.

    ``kind``: its place among the result's files (`RenderResult.made`);
    ``label``: what the user misses when it cannot be made (``No <label>: why``);
    ``in_background``: run in a thread beside the others (audio waits on a
    synthesiser and an encoder while the pictures are drawn).
    """

    kind: str
    option: str
    value: str
    suffix: str
    label: str
    make: Callable[[RenderJob, Path], Path]
    in_background: bool = False

    def asked(self, options: RenderOptions) -> bool:
        return bool(getattr(options, self.option) == self.value)


def require_notes(melody: Melody) -> None:
    """Refuse a melody of rests only: there is nothing to hear or draw."""
    if not melody.has_notes:
        raise InvalidParameter(
            "melody", " ".join(melody.symbols[:8]), "a melody with at least one note"
        )


def last_line(text: str) -> str:
    """The last non-empty line of a tool's message, at most 200 characters."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else "no message"
