"""What one request may cost, checked before any work starts; retrain options."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.limits import MAX_RANDOM_SEED, MAX_TOTAL_STEPS, RETRAIN_PRESETS
from lstmuse_core.music.keys import Key
from lstmuse_core.music.meter import Meter
from lstmuse_core.music.midi import MidiSeed
from lstmuse_core.options import MELODY_OPTIONS, option_fields
from lstmuse_core.request import MelodyRequest, RetrainRequest


@pytest.mark.parametrize(
    ("options", "parameter", "fragment"),
    [
        # 4,096 sixteenths and ~4 GB on main before the artifact cap said no.
        (
            {"bars": "8", "time_signature": "32/1", "bpm": "20", "count": "4"},
            "meter",
            "1-16 beats",
        ),
        ({"meter": "4/1"}, "meter", "unit of 2, 4, 8 or 16"),
        ({"meter": "17/8"}, "meter", "1-16 beats"),
        ({"meter": "16/2"}, "meter", "bars of at most 32 16th notes"),
        ({"bars": "64", "meter": "8/4"}, "bars", f"at most {MAX_TOTAL_STEPS}"),
        ({"mode": "bebop"}, "mode", "dorian"),
        ({"key": "Am", "mode": "dorian"}, "key", "in the mode asked for"),
        ({"bars": "64", "seed": "C4 D4"}, "bars", "seed included"),
        ({"bars": "64", "bpm": "20"}, "bpm", "audio of at most"),
        ({"bars": "40", "audio": "wav", "bpm": "60"}, "audio", "MiB per melody"),
        ({"style": "../../x"}, "style", "lower-case letters"),
        ({"style": "@everyone"}, "style", "lower-case letters"),
        ({"random_seed": "9" * 5000}, "random_seed", "a whole number"),
        ({"bpm": "nan"}, "bpm", "a finite number"),
        ({"octave": "3"}, "octave", "a whole number from -2 to 2"),
        ({"octave": "0.5"}, "octave", "a whole number"),
        ({"seed_bars": "0"}, "seed_bars", "a whole number from 1 to 64"),
        ({"export": "pdf"}, "export", "one of none, musicxml"),
        ({"top_p": "0.005"}, "top_p", "a number from 0.01 to 1"),  # the table's range, not > 0
        ({"count": "two"}, "count", "a whole number"),
        ({"force": "yes"}, "force", "known options"),  # a retrain option, not a melody's
        # 57 bars of WAV at 120 bpm fit with a piano roll, not with a MusicXML score as well.
        (
            {"bars": "57", "audio": "wav", "export": "musicxml", "bpm": "120"},
            "audio",
            "or export=none",
        ),
    ],
)
def test_costly_or_unsafe_requests_are_refused_by_name(
    options: dict[str, str], parameter: str, fragment: str
) -> None:
    """Each refusal names the parameter and says what is allowed."""
    with pytest.raises(InvalidParameter, match=fragment) as refused:
        MelodyRequest.from_options(options)
    assert refused.value.parameter == parameter


def test_a_long_typed_seed_is_refused_quickly() -> None:
    """A few hundred whole-bar notes (~25,000 steps on main) are refused at once."""
    started = time.perf_counter()
    with pytest.raises(InvalidParameter, match="at most 512 16th notes") as refused:
        MelodyRequest.from_options({"seed": " ".join(["C4:4"] * 400)})
    assert refused.value.parameter == "seed"
    assert time.perf_counter() - started < 1.0
    symbols = " ".join(["60"] + ["_"] * 600)
    with pytest.raises(InvalidParameter, match="at most 512"):
        MelodyRequest.from_options({"seed": symbols})


def test_the_largest_allowed_request_is_accepted() -> None:
    """64 bars of 4/4 at 60 bpm with MP3: exactly the budget, accepted."""
    request = MelodyRequest.from_options({"bars": "64", "bpm": "60", "count": "4"})
    assert request.length == (MAX_TOTAL_STEPS, MAX_TOTAL_STEPS)


def test_melody_seeds_near_the_maximum_stay_valid() -> None:
    """random_seed at the maximum with count=2: each melody's seed is a valid request seed."""
    request = MelodyRequest(random_seed=MAX_RANDOM_SEED, count=2)
    assert request.melody_seeds() == [MAX_RANDOM_SEED, 0]
    for seed in request.melody_seeds():
        assert request.replace(random_seed=seed, count=1).random_seed == seed


def test_instrument_is_stored_by_its_short_general_midi_name() -> None:
    """An 1,800-character instrument text becomes one GM name (it reaches embeds and titles)."""
    request = MelodyRequest.from_options({"instrument": "piano " * 300})
    assert request.instrument == "Acoustic Grand Piano"
    assert MelodyRequest.from_json(request.to_json()) == request


@pytest.mark.parametrize(
    ("options", "parameter"),
    [
        ({"style": "folk", "epochs": "0"}, "epochs"),
        ({"style": "folk", "epochs": "-3"}, "epochs"),
        ({"style": "folk", "epochs": "lots"}, "epochs"),
        ({"style": "folk", "minutes": "0"}, "minutes"),
        ({"style": "folk", "minutes": "inf"}, "minutes"),
        ({"style": "folk", "preset": "huge"}, "preset"),
        ({"style": "folk", "force": "maybe"}, "force"),
        ({"style": "/etc"}, "style"),
        ({"epochs": "3"}, "style"),
        ({"style": "folk", "colour": "red"}, "colour"),
    ],
)
def test_nonsense_retrain_options_are_refused(options: dict[str, str], parameter: str) -> None:
    """Retrain options are checked before anything is uploaded or queued."""
    with pytest.raises(InvalidParameter) as refused:
        RetrainRequest.from_options(options)
    assert refused.value.parameter == parameter


def test_retrain_request_reads_typed_options() -> None:
    """Typed options become a typed request."""
    request = RetrainRequest.from_options(
        {"style": "Folk", "epochs": "30", "force": "yes", "minutes": "2.5"}
    )
    assert request == RetrainRequest("folk", epochs=30, force=True, minutes=2.5)


def test_retrain_presets_match_the_model_presets() -> None:
    """The bot's list of presets (no Keras import) is the model's own."""
    from lstmuse_core.model.network import PRESETS

    assert set(RETRAIN_PRESETS) == set(PRESETS)


def test_the_meter_is_a_meter_from_any_of_its_names_and_text_in_json() -> None:
    """meter, time_signature and timesig set the request's Meter; its JSON holds the text."""
    for name in ("meter", "time_signature", "Timesig"):
        assert MelodyRequest.from_options({name: " 6 / 8 "}).meter == Meter(6, 8)
    request = MelodyRequest.from_options({"meter": "6/8"})
    data = json.loads(json.dumps(request.to_json()))
    assert data["meter"] == "6/8" and "time_signature" not in data
    assert MelodyRequest.from_json(data) == request
    assert MelodyRequest().to_json()["meter"] is None
    with pytest.raises(InvalidParameter, match=r"^meter='5/7'") as refused:
        MelodyRequest.from_json({**data, "meter": "5/7"})
    assert refused.value.parameter == "meter"
    with pytest.raises(TypeError, match="Meter"):
        MelodyRequest(meter="6/8")  # type: ignore[arg-type]


def test_importing_the_request_does_not_load_the_renderer() -> None:
    """`import lstmuse_core.request` does not import lstmuse_core.music.render."""
    code = "import sys, lstmuse_core.request; print('lstmuse_core.music.render' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_typed_options_set_octave_seed_bars_and_export() -> None:
    """octave, seed_bars and export are typed options; any case of export is accepted."""
    request = MelodyRequest.from_options({"octave": "-1", "seed-bars": "2", "Export": "MusicXML"})
    assert (request.octave, request.seed_bars, request.export) == (-1, 2, "musicxml")
    # What the score costs is counted: without it, 57 bars of WAV fit (refused above with it).
    assert MelodyRequest.from_options({"bars": "57", "audio": "wav", "bpm": "120"}).export == "none"
    assert MelodyRequest.from_json(request.to_json()) == request


@pytest.mark.parametrize(
    ("meter", "kept"),
    [(None, 16), ("3/4", 12), ("6/8", 12), ("2/4", 8)],
)
def test_seed_bars_keeps_the_first_bars_of_the_meter(meter: str | None, kept: int) -> None:
    """seed_bars=1 keeps one bar of the request's meter (4/4 without one), cut on a bar line."""
    seed = "C4 D4 E4 F4 G4:2 A4 B4 C5:4"  # 44 16ths
    options = {"seed": seed, "seed_bars": "1", **({"meter": meter} if meter else {})}
    request = MelodyRequest.from_options(options)
    full = MelodyRequest.from_options({"seed": seed}).seed_melody
    assert request.seed_melody == full[:kept]
    # The cut is kept when the request is changed, and a later seed (a MIDI file) is cut too.
    assert request.replace(count=2).seed_melody == full[:kept]
    assert request.replace(seed_melody=full).seed_melody == full[:kept]
    assert MelodyRequest.from_options({"seed": seed, "seed_bars": "32"}).seed_melody == full


SEED_IN_G = MidiSeed(("67", "_", "_", "_", "71", "_", "74", "_"), Key("G"), 96.0)


def test_a_midi_seed_brings_its_key_and_tempo_where_none_was_typed() -> None:
    """A G major file at 96 bpm: the request plays in G major at 96 bpm."""
    request = MelodyRequest().with_seed_file(SEED_IN_G)
    assert (request.key, request.mode, request.bpm) == ("G major", "major", 96.0)
    assert request.seed_melody == SEED_IN_G.symbols


def test_a_typed_key_and_bpm_win_over_the_midi_seeds() -> None:
    """key=D and bpm=120 typed: the file's G major and 96 bpm are not applied (even 120 counts)."""
    typed = {"key": "D", "tempo": "120"}
    request = MelodyRequest.from_options(typed)
    started = request.with_seed_file(SEED_IN_G, option_fields(MELODY_OPTIONS, typed))
    assert (started.key, started.bpm) == ("D", 120.0)
    assert started.seed_melody == SEED_IN_G.symbols


def test_a_typed_mode_reads_the_files_signature_in_that_mode() -> None:
    """mode=dorian and a G major (one sharp) file: A dorian, the dorian key with one sharp."""
    typed = {"mode": "dorian"}
    request = MelodyRequest.from_options(typed).with_seed_file(
        SEED_IN_G, option_fields(MELODY_OPTIONS, typed)
    )
    assert (request.key, request.mode) == ("A dorian", "dorian")


def test_a_midi_seed_without_key_or_tempo_changes_neither() -> None:
    """A file that states no key or tempo leaves the request's key and bpm unset (the style's)."""
    request = MelodyRequest().with_seed_file(MidiSeed(("60", "_")))
    assert (request.key, request.mode, request.bpm) == (None, None, None)


def test_without_bpm_a_request_is_costed_at_the_styles_slowest_tempo() -> None:
    """bpm unset: 6/8 irish is costed at its jig (165 quarters a minute), a request without a
    meter at the slowest tempo the style has; 57 bars of WAV fit at 120 bpm, not at folk's 99."""
    assert MelodyRequest(style="irish", meter=Meter(6, 8)).costed_bpm == 165.0
    assert MelodyRequest(style="folk").costed_bpm == 99.0  # a 6/8 song's dotted quarter of 66
    assert MelodyRequest(style="folk", bpm=120).costed_bpm == 120.0
    with pytest.raises(InvalidParameter, match="MiB per melody") as refused:
        MelodyRequest.from_options({"bars": "57", "audio": "wav"})
    assert refused.value.parameter == "audio"


def test_a_request_without_bpm_round_trips_through_json_as_null() -> None:
    """bpm None is null in JSON and None again after; a typed bpm stays a number."""
    request = MelodyRequest(style="irish", meter=Meter(6, 8))
    data = json.loads(json.dumps(request.to_json()))
    assert data["bpm"] is None
    assert MelodyRequest.from_json(data) == request
    typed = MelodyRequest.from_options({"bpm": "90"})
    assert MelodyRequest.from_json(json.loads(json.dumps(typed.to_json()))).bpm == 90.0


def test_a_harmonize_request_takes_the_tunes_facts_and_the_melodys_output_options() -> None:
    """Only the output options are taken (a melody's temp is refused by name, listing them);
    the tune brings its key, meter, pickup and tempo, and a typed bpm wins over the file's."""
    from lstmuse_core.music.melody import Melody
    from lstmuse_core.music.tune_file import Tune
    from lstmuse_core.options import HARMONIZE_OPTIONS
    from lstmuse_core.request import HarmonizeRequest

    with pytest.raises(InvalidParameter, match="known options: instrument, bpm, backing, audio"):
        HarmonizeRequest.from_options({"temp": "0.8"})
    jig = Tune(Melody(["r", "r", "67", "_"] + ["71", "_"] * 5, "6/8", "G major"), bpm=150.0)
    typed = {"instrument": "fiddle", "backing": "guitar"}
    request = HarmonizeRequest.from_options(typed).with_tune(
        jig, "jig.abc", option_fields(HARMONIZE_OPTIONS, typed)
    )
    assert (request.key, request.meter.text, request.symbols[:3]) == (
        "G major",
        "6/8",
        ("r",) * 2 + ("67",),
    )
    assert request.tempo.text == "dotted quarter = 100 (150 bpm)" and request.name == "jig.abc"
    assert (request.instrument, request.backing) == ("Violin", "guitar")
    typed = {"bpm": "90"}
    asked = HarmonizeRequest.from_options(typed).with_tune(
        jig, "jig.abc", option_fields(HARMONIZE_OPTIONS, typed)
    )
    assert asked.tempo.quarter_bpm == 90
    no_tempo = Tune(jig.melody, bpm=None)
    assert (
        HarmonizeRequest().with_tune(no_tempo, "jig.abc").tempo.text
        == "dotted quarter = 66 (99 bpm)"
    )


def test_a_harmonize_request_costs_as_a_melody_does() -> None:
    """A long tune played slowly is refused by bpm, naming what would make it fit."""
    from lstmuse_core.request import HarmonizeRequest

    with pytest.raises(InvalidParameter, match=r"bpm=20.0 is not allowed: audio of at most 360 s"):
        HarmonizeRequest(symbols=("60",) + ("_",) * 999, bpm=20.0, name="long.mid")
    assert HarmonizeRequest(symbols=("60",) + ("_",) * 999, bpm=20.0, audio="none").symbols
    with pytest.raises(
        InvalidParameter, match=r"tune='long.mid' is not allowed: a tune of at most"
    ):
        HarmonizeRequest(symbols=("60",) * (MAX_TOTAL_STEPS + 1), name="long.mid")
