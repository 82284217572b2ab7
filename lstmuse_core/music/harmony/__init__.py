"""Chords for a melody: a hidden Markov model learned from Bach's chorales (`harmonize`)."""

from lstmuse_core.music.harmony.harmonizer import ChordSpan, harmonize

__all__ = ["ChordSpan", "harmonize"]
