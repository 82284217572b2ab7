"""A melody with a form in the bot: its result's JSON, the reply's Form line, Continue."""

from __future__ import annotations

import pytest

from bot.service import LstmuseService, MelodyPost
from lstmuse_core.jobs.json_form import MalformedResult
from lstmuse_core.jobs.results import GeneratedMelody
from lstmuse_core.music.form import Form, TuneForm
from lstmuse_core.music.meter import Meter
from lstmuse_core.request import MelodyRequest

JIG = Meter(6, 8)


def _formed() -> GeneratedMelody:
    form = TuneForm(Form.parse("AABB"), 2, JIG.bar_steps, pickup=True)  # type: ignore[arg-type]
    symbols = ["r"] * 10 + ["69", "_"] + (["74"] + ["_"] * 11) * (form.played_steps // 12 - 1)
    return GeneratedMelody(tuple(symbols), 7, "D major", JIG, {}, (), (), form)


def test_a_formed_melody_round_trips_through_its_json() -> None:
    """The result carries its form; a form that does not play its symbols is named."""
    melody = _formed()
    again = GeneratedMelody.from_json(melody.to_json())
    assert again.form == melody.form and again.to_json()["form"] == {
        "form": "AABB",
        "part_bars": 2,
        "pickup": True,
    }
    bad = {**melody.to_json(), "form": {"form": "AAAB", "part_bars": 2, "pickup": True}}
    with pytest.raises(MalformedResult, match=r"melody\.form .*AAAB"):
        GeneratedMelody.from_json(bad)
    short = {**melody.to_json(), "form": {"form": "AB", "part_bars": 2, "pickup": True}}
    with pytest.raises(MalformedResult, match="form"):
        GeneratedMelody.from_json(short)


def test_the_reply_says_the_form_and_continue_is_one_line() -> None:
    """Form: AABB, 2 x 2 bars of 6/8, ...; Continue asks for bars more as one line."""
    request = MelodyRequest(style="irish", form="AABB", bars=2, random_seed=7, temperature=0.8)
    post = MelodyPost(request, "irish", "v001", _formed())
    assert post.facts["Form"] == "AABB, 2 x 2 bars of 6/8, 4 bars played twice"
    continued = LstmuseService.continuation(post)
    assert continued.form == "none" and continued.bars == 8
