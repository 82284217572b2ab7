"""!harmonize and /harmonize: a member's file read, queued to the real worker, posted back."""

from __future__ import annotations

import io
import random
import re
from pathlib import Path

import discord.ext.test as dpytest
import pytest
from dpytest_support import midi_file, recorded_edits, sent_messages
from interactions_support import install, slash

from bot.discord_bot import LstmuseBot
from lstmuse_core.music.tune_file import MAX_TUNE_FILE_NOTES

# "Es haett ein Maidlein ein Reiter hold" (ESAC erk5, music21's corpus): 3/4, D major,
# a one-quarter pickup.
ERK5_TUNE = 12
CHART_LINE = re.compile(r"^\| .+ \|$")


def erk5_midi(abc: Path, folder: Path) -> tuple[Path, list[int]]:
    """Tune `ERK5_TUNE` as a MIDI file made with pretty_midi at 120 bpm, with its time and
    key signatures, its pickup after the rest that fills its first bar (MIDI has no pickup
    of its own), and a "Bass" part an octave and a fifth below the "Melody"; the file and
    the melody's pitches."""
    import pretty_midi
    from music21 import converter

    score = converter.parse(str(abc)).scores[ERK5_TUNE]
    padding = score.recurse().getElementsByClass("Measure").first().paddingLeft
    midi = pretty_midi.PrettyMIDI(initial_tempo=120)
    midi.time_signature_changes.append(pretty_midi.TimeSignature(3, 4, 0))
    midi.key_signature_changes.append(
        pretty_midi.KeySignature(pretty_midi.key_name_to_key_number("D Major"), 0)
    )
    melody = pretty_midi.Instrument(0, name="Melody")
    bass = pretty_midi.Instrument(32, name="Bass")
    for note in score.flatten().notes:
        start, end = (
            float(note.offset + padding) / 2,
            float(note.offset + padding + note.quarterLength) / 2,
        )
        melody.notes.append(pretty_midi.Note(80, note.pitch.midi, start, end))
        bass.notes.append(pretty_midi.Note(70, note.pitch.midi - 19, start, end))
    midi.instruments += [bass, melody]  # the melody is not the first part: it is named
    path = folder / "maidlein.mid"
    midi.write(str(path))
    return path, [n.pitch.midi for n in score.flatten().notes]


def chart(text: str) -> list[str]:
    return [line for line in text.splitlines() if CHART_LINE.match(line)]


async def test_harmonize_posts_chords_and_files_in_the_tunes_own_key_meter_and_pickup(
    discord_bot: LstmuseBot, erk5_folder: Path, tmp_path: Path
) -> None:
    """!harmonize with an erk5 tune's MIDI (two parts, and a second file): the melody part,
    harmonized through the worker; the reply has its key, meter, pickup, tempo and the chord
    chart ending on the tonic; the posted MIDI has the tune's notes, pickup and register."""
    import pretty_midi

    tune, pitches = erk5_midi(erk5_folder / "erk5.abc", tmp_path)
    extra = midi_file(tmp_path / "other.mid", [60, 62])
    with recorded_edits() as edits:
        await dpytest.message("!harmonize image=none", attachments=[str(tune), extra])
    status, post = [m for m in sent_messages()]
    texts = [text for message_id, text in edits if message_id == status.id]
    assert (
        status.content
        == "Reading your tune maidlein.mid... (one tune at a time: other.mid left out)"
    )
    queued = 'Queued (1st in line): harmonizing maidlein.mid ("Melody", named as the melody)'
    assert queued in texts
    assert texts[-1].startswith("Done: maidlein.mid harmonized below.")
    content = post.content
    assert '"Melody", named as the melody' in content
    assert "key D major" in content and "tempo 120 bpm" in content
    assert "of 3/4 after a 1-beat pickup" in content
    lines = chart(content)
    assert lines and lines[-1].endswith(" D |"), content  # the tonic last
    assert sorted(a.filename.rsplit(".", 1)[1] for a in post.attachments) == ["mid", "mp3"]
    (midi,) = [a for a in post.attachments if a.filename.endswith(".mid")]
    assert re.fullmatch(r"maidlein-harmonized-[0-9a-f]{6}\.mid", midi.filename)
    played = pretty_midi.PrettyMIDI(io.BytesIO(await midi.read())).instruments[0].notes
    assert [note.pitch for note in played] == pitches  # its own register
    assert played[0].start == pytest.approx(1.0)  # after two quarters of rest at 120 bpm


@pytest.mark.parametrize(
    "name, pitches, channel, refusal",
    [
        ("damaged.mid", None, 0, "a standard MIDI file (.mid)"),
        (
            "dense.mid",
            [60, 62] * (MAX_TUNE_FILE_NOTES // 2 + 1),
            0,
            f"at most {MAX_TUNE_FILE_NOTES} notes",
        ),
        ("drums.mid", [36, 38, 42, 36], 9, "no pitched (non-drum) notes"),
    ],
)
async def test_a_file_we_cannot_harmonize_is_refused_by_name_before_it_is_queued(
    discord_bot: LstmuseBot, tmp_path: Path, name, pitches, channel, refusal
) -> None:
    """A damaged file (random bytes), a too-dense one and one of drums only: one edit of the
    status naming the file and why, never "Queued", no job held."""
    path = tmp_path / name
    if pitches is None:
        path.write_bytes(random.Random(7).randbytes(3000))
    else:
        midi_file(path, pitches, ticks_per_note=2, channel=channel)
    with recorded_edits() as edits:
        await dpytest.message("!harmonize", attachments=[str(path)])
    (status,) = sent_messages()
    assert status.content == f"Reading your tune {name}..."
    ((message_id, text),) = edits
    assert message_id == status.id
    assert text.startswith(f"Sorry: tune='{name}' is not allowed: ") and refusal in text, text
    assert await discord_bot.service.limits.jobs_of(dpytest.get_config().members[0].id) == []


async def test_harmonize_without_a_file_or_with_a_bad_option_is_refused(
    discord_bot: LstmuseBot, tmp_path: Path
) -> None:
    """No file: the refusal names the parameter and the formats taken; a bad option is named."""
    await dpytest.message("!harmonize")
    (reply,) = sent_messages()
    assert reply.content == (
        "Sorry: tune='nothing attached' is not allowed: one attached file: "
        "a MIDI (.mid), MusicXML (.musicxml, .xml, .mxl) or ABC (.abc) file"
    )
    await dpytest.message(
        "!harmonize audio=flac", attachments=[midi_file(tmp_path / "a.mid", [60])]
    )
    (reply,) = sent_messages()
    assert reply.content.startswith("Sorry: audio='flac' is not allowed")


async def test_help_harmonize_lists_its_options(discord_bot: LstmuseBot) -> None:
    """!help harmonize: the melody's output options, from the same rows, and the formats."""
    await dpytest.message("!help harmonize")
    text = "\n".join(message.content for message in sent_messages())
    assert "**!harmonize**" in text and "`instrument`" in text and "`export`" in text
    assert "default the file's" in text and "(.abc)" in text
    assert "`temp`" not in text


async def test_slash_harmonize_takes_the_tune_as_an_attachment(
    discord_bot: LstmuseBot, monkeypatch, tmp_path: Path
) -> None:
    """/harmonize tune:<file>: deferred, then the chord chart and the files."""
    config = dpytest.get_config()
    channel, owner = config.channels[0], config.members[0]
    fake = install(monkeypatch, discord_bot, channel)
    tune = tmp_path / "scale.mid"
    midi_file(tune, [62, 64, 66, 67, 69, 71, 73, 74], key="D")  # up a quarter at a time
    slash(discord_bot, owner, channel, "harmonize", tune=tune, bpm=90.0, options="audio=none")
    await fake.wait_for(lambda requests: any(r.files for r in requests))
    assert fake.requests[0].is_callback and fake.requests[0].payload["type"] == 5  # deferred
    (post,) = fake.posts_with_files()
    assert sorted(name.rsplit(".", 1)[1] for name in post.files) == ["mid", "png"]
    content = post.payload["content"]
    assert "key D major" in content and "tempo 90 bpm" in content
    (line,) = chart(content)  # two bars of 4/4, the tonic last
    assert line.count("|") == 3 and line.endswith(" D |"), content
