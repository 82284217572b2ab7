"""Generated tunes with a form, written as ABC and MusicXML, read back by music21.

Every committed style, each of its meters and modes, and forms with repeats,
endings and returning parts: the ABC tune and the MusicXML score, their repeats
played out by music21 (``expandRepeats``), are exactly the MIDI file's notes
(pitch, onset, length), meter and key signature. A part that comes back at the
end (ABA) is D.C. al Fine in the MusicXML, written out in the ABC (music21's ABC
reader and abc2midi 4.84 do not play ``!D.C.!``). 200 tunes in the default run,
1,000 marked slow.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from music21 import bar, converter, repeat, spanner

from lstmuse_core.model.generate import SamplingControls, load_generator
from lstmuse_core.music.form import Form
from lstmuse_core.music.keys import parse_key
from lstmuse_core.music.melody import Melody
from lstmuse_core.music.midi import melody_to_midi
from lstmuse_core.music.render.abc import abc_tune
from lstmuse_core.music.render.musicxml import write_musicxml

STYLES = ("folk", "irish", "scottish", "fiddle", "chinese")
FORMS = ("AABB", "AB", "AAB", "ABA", "AABA", "ABAB", "A1A2BB", "A1A2B1B2", "AABBCC", "AA")
TONICS = ("C", "D", "G", "F", "Bb", "A", "E")
BPM = 120.0


def _tunes(count: int) -> list[tuple[Melody, object, str]]:
    """``count`` tunes spread over styles, meters, modes, forms and keys, sampled in batches."""
    tunes = []
    per_style = -(-count // len(STYLES))
    for style in STYLES:
        generator = load_generator(style)
        known = generator.conditioning
        combos = itertools.cycle(
            itertools.product(sorted(known.meters, key=str), sorted(known.modes), FORMS)
        )
        plans = []
        for seed, (meter, mode, form) in zip(range(per_style), combos, strict=False):
            part_bars = (2, 4, 3, 8)[seed % 4]
            plans.append(
                generator.plan(seed, meter=meter, mode=mode, bars=part_bars, form=Form.parse(form))
            )
        for sampled in generator.sample_plans(plans, SamplingControls(1.0), 1):
            tonic = TONICS[len(tunes) % len(TONICS)]
            key = parse_key(tonic, sampled.mode)
            melody = Melody.from_model(sampled.played, sampled.meter, key)
            tunes.append(
                (
                    melody,
                    sampled.form,
                    f"{style} {sampled.meter} {key.name} "
                    f"{sampled.form.form.text} x {sampled.form.part_bars}",
                )
            )
    return tunes[:count]


def _midi_notes(melody: Melody) -> list[tuple[float, int, float]]:
    """(onset, pitch, length) in quarters from the first note, as the MIDI file plays them."""
    midi = melody_to_midi(melody, bpm=BPM)
    notes = sorted(midi.instruments[0].notes, key=lambda n: n.start)
    first = notes[0].start
    quarters = BPM / 60
    return [
        (round((n.start - first) * quarters, 4), n.pitch, round((n.end - n.start) * quarters, 4))
        for n in notes
    ]


def _read_notes(score) -> list[tuple[float, int, float]]:
    played = score.expandRepeats().stripTies()
    notes = list(played.flatten().notes)
    first = notes[0].getOffsetInHierarchy(played.flatten())
    return [
        (
            round(float(n.getOffsetInHierarchy(played.flatten()) - first), 4),
            n.pitch.midi,
            round(float(n.quarterLength), 4),
        )
        for n in notes
    ]


def _signature(score) -> tuple[str, int]:
    flat = score.flatten()
    meter = flat.getElementsByClass("TimeSignature")[0].ratioString
    sharps = flat.getElementsByClass("KeySignature")[0].sharps
    return meter, sharps


def _check(tunes, tmp_path: Path) -> None:
    for number, (melody, form, what) in enumerate(tunes):
        want = _midi_notes(melody)
        key_sharps = melody.key.signature_sharps
        abc = converter.parse(abc_tune(melody, title="t", bpm=BPM, form=form), format="abc")
        assert _read_notes(abc) == want, f"ABC of {what}"
        assert _signature(abc) == (melody.meter.text, key_sharps), what
        path = write_musicxml(
            melody, tmp_path / f"{number}.musicxml", title="t", bpm=BPM, form=form
        )
        xml = converter.parse(str(path))
        assert _read_notes(xml) == want, f"MusicXML of {what}"
        assert _signature(xml) == (melody.meter.text, key_sharps), what
        repeats = [b for b in xml.recurse().getElementsByClass(bar.Repeat)]
        brackets = xml.recurse().getElementsByClass(spanner.RepeatBracket)
        marks = form.da_capo_score  # returning parts: D.C. al Fine, which music21 plays
        assert len(repeats) == sum(m.repeat_start for m in marks) + sum(m.repeat_end for m in marks)
        assert len(brackets) == sum(m.volta == 1 for m in marks) * 2, what
        da_capos = xml.recurse().getElementsByClass(repeat.DaCapoAlFine)
        fines = xml.recurse().getElementsByClass(repeat.Fine)
        assert (len(da_capos), len(fines)) == (sum(m.da_capo for m in marks),) * 2, what


def test_two_hundred_tunes_read_back_as_their_midi(tmp_path: Path) -> None:
    """200 tunes: ABC and MusicXML with repeats and endings play the MIDI's notes."""
    _check(_tunes(200), tmp_path)


@pytest.mark.slow
def test_a_thousand_tunes_read_back_as_their_midi(tmp_path: Path) -> None:
    """1,000 tunes over every style, meter, mode and form, as above."""
    _check(_tunes(1000), tmp_path)
