"""The music files the project reads, by suffix, with music21's name for each format.

Its own module so that the corpus reader and the upload checks share it
without depending on each other (`corpus` reads a checked ``.mxl`` through
`uploads`).
"""

from __future__ import annotations

SUPPORTED_SUFFIXES = {
    ".abc": "abc",
    ".krn": "humdrum",
    ".xml": "musicxml",
    ".mxl": "musicxml",
    ".musicxml": "musicxml",
    ".mid": "midi",
    ".midi": "midi",
}
