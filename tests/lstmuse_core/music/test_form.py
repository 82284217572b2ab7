"""The form grammar, its layouts (as written, played and scored) and the requests that use it."""

from __future__ import annotations

import pytest

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.music.form import FORM_NONE, Form, TuneForm, form_text
from lstmuse_core.music.form_tables import draw_form, part_bars, style_forms
from lstmuse_core.music.harmony import ChordSpan
from lstmuse_core.music.meter import Meter
from lstmuse_core.request import MelodyRequest


@pytest.mark.parametrize(
    ("typed", "canonical", "played"),
    [
        ("aabb", "AABB", "AABB"),
        ("ABA", "ABA", "ABA"),
        ("A1A2BB", "A1A2BB", "AABB"),
        ("a1a2b1b2", "A1A2B1B2", "AABB"),
        ("AABA", "AABA", "AABA"),
        ("AA", "AA", "AA"),
    ],
)
def test_forms_read_as_players_write_them(typed: str, canonical: str, played: str) -> None:
    """Any case; A1A2 is a repeat with endings, played AA."""
    form = Form.parse(typed)
    assert form is not None and (form.text, form.played) == (canonical, played)
    assert form_text(typed) == canonical


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("AAAB", "at most twice in a row"),
        ("BA", "lettered in order"),
        ("A", "two parts or more"),
        ("A1B2", "parts in play order"),
        ("AB!", "parts in play order"),
        ("ABCDEFG", "at most 6 different parts"),
        ("A1A2A", "the whole repeat"),
    ],
)
def test_a_form_that_does_not_read_is_refused_naming_form(typed: str, why: str) -> None:
    with pytest.raises(InvalidParameter, match=f"form='{typed}' is not allowed: .*{why}"):
        Form.parse(typed)


def test_none_is_one_line() -> None:
    assert Form.parse("None") is None and form_text("NONE") == FORM_NONE


def test_aabb_is_written_once_and_played_twice_after_its_pickup() -> None:
    """Pickup bar 0, A in bars 1-4, B in 5-8; played A A B B, the pickup once."""
    tune = TuneForm(Form.parse("AABB"), 4, 12, pickup=True)  # type: ignore[arg-type]
    assert len(tune.written) == 9
    assert tune.played == (0, 1, 2, 3, 4, 1, 2, 3, 4, 5, 6, 7, 8, 5, 6, 7, 8)
    assert [(p.label, p.time, p.start, p.end) for p in tune.parts] == [
        ("A", 1, 0, 60),
        ("A", 2, 60, 108),
        ("B", 1, 108, 156),
        ("B", 2, 156, 204),
    ]
    score = tune.score
    assert [bar.played_bar for bar in score] == [0, 1, 2, 3, 4, 9, 10, 11, 12]
    assert [b.label for b in score if b.label] == ["A", "B"]
    assert [i for i, b in enumerate(score) if b.repeat_start] == [1, 5]
    assert [i for i, b in enumerate(score) if b.repeat_end] == [4, 8]
    assert tune.summary("6/8") == "AABB, 2 x 4 bars of 6/8, 8 bars played twice"


def test_endings_are_written_after_the_body_and_bracketed() -> None:
    """A1A2: the endings follow the body, as the reader keeps a tune's; the score
    brackets them 1 and 2, the repeat sign on the first."""
    tune = TuneForm(Form.parse("A1A2B"), 4, 8)  # type: ignore[arg-type]
    roles = [(b.label, b.role) for b in tune.written]
    assert roles[3:5] == [("A", "first"), ("A", "second")]
    assert tune.sections[0].endings == ((24, 32), (32, 40))
    assert tune.played == (0, 1, 2, 3, 0, 1, 2, 4, 5, 6, 7, 8)
    volta = [(b.volta, b.repeat_end) for b in tune.score]
    assert volta[3:5] == [(1, True), (2, False)]


def test_a_bar_reached_by_a_repeat_strikes_its_note_again() -> None:
    """A repeat's first bar that held a note over from the pickup plays it afresh."""
    tune = TuneForm(Form.parse("AA"), 1, 4, pickup=True)  # type: ignore[arg-type]
    written = tune.clean_starts(["r", "_", "60", "_", "_", "62", "_", "_"])
    assert written == ["r", "_", "60", "_", "60", "62", "_", "_"]
    assert tune.play(written) == ["r", "_", "60", "_", *["60", "62", "_", "_"] * 2]


@pytest.mark.parametrize(
    ("typed", "pickup", "returning"),
    [
        ("ABA", False, 1),
        ("ABCA", False, 1),
        ("ABCAB", False, 2),
        ("ABA", True, 0),
        ("AABA", False, 0),
        ("ABAB", False, 0),
        ("AABB", False, 0),
        ("A1A2BA", False, 0),
    ],
)
def test_parts_that_come_back_at_the_end_are_a_da_capo(
    typed: str, pickup: bool, returning: int
) -> None:
    """Runs played once at the start and again at the end are D.C. al Fine; not after
    a pickup (a D.C. would play it again) nor through a repeat (a D.C. takes none)."""
    tune = TuneForm(Form.parse(typed), 2, 8, pickup=pickup)  # type: ignore[arg-type]
    assert tune.da_capo_runs == returning
    if not returning:
        assert tune.da_capo_score == tune.score
        assert not any(b.fine or b.da_capo for b in tune.score)


def test_aba_writes_a_fine_b_and_da_capo() -> None:
    """ABA of 2-bar parts: A (Fine), B (D.C. al Fine): 4 bars written, 6 played; the
    bar after Fine strikes a held note again (the last time the tune ends at Fine)."""
    tune = TuneForm(Form.parse("ABA"), 2, 4)  # type: ignore[arg-type]
    score = tune.da_capo_score
    assert [b.played_bar for b in score] == [0, 1, 2, 3]
    assert [(b.fine, b.da_capo) for b in score] == [(0, 0), (1, 0), (0, 0), (0, 1)]
    assert [b.label for b in score if b.label] == ["A", "B"]
    assert len(tune.score) == 6  # written out again where D.C. is not written (ABC)
    written = tune.clean_starts(
        ["60", "_", "_", "_", "62", "_", "_", "_", "_", "_", "_", "_", "64", "_", "_", "_"]
    )
    assert written[8] == "62"
    assert tune.score_symbols(tune.play(written), score) == written


def test_chords_repeat_with_their_bars() -> None:
    """The second time through plays the first time's chords."""
    tune = TuneForm(Form.parse("AA"), 1, 4)  # type: ignore[arg-type]
    chords = (ChordSpan(0, 4, "C", 0, (0, 4, 7)), ChordSpan(4, 4, "G", 7, (7, 11, 2)))
    assert [(c.start, c.steps, c.symbol) for c in tune.repeat_chords(chords)] == [(0, 8, "C")]


def test_styles_draw_their_own_forms() -> None:
    """Irish tunes are mostly in parts, 8 bars a part; German folk songs are one line."""
    irish = style_forms("irish")
    assert max(irish, key=irish.__getitem__) == "AABB" and part_bars("irish", "AABB") == 8
    assert style_forms("folk") == {FORM_NONE: style_forms("folk")[FORM_NONE]}
    assert style_forms("nosuchstyle") == {FORM_NONE: 1}
    drawn = {draw_form(irish, seed) for seed in range(200)}
    assert {"AABB", "AB", "AAB"} <= drawn and draw_form({}, 3) == FORM_NONE
    assert draw_form(irish, 7) == draw_form(irish, 7)


def test_a_request_with_a_form_counts_parts_and_refuses_what_cannot_fit() -> None:
    """bars= is one part's; parts written once must fit the step limit; the seed must
    leave room in the first part; each refusal names its option."""
    request = MelodyRequest(style="irish", form="aabb", bars=8, meter=Meter(6, 8))
    assert request.form == "AABB" and request.part_bars == 8
    assert MelodyRequest(style="irish", form="AABB").part_bars == 8
    with pytest.raises(InvalidParameter, match="bars=64 is not allowed: at most 1024 16th notes"):
        MelodyRequest(form="AABBCC", bars=64)
    with pytest.raises(InvalidParameter, match=r"seed=.* a seed shorter than the first part"):
        MelodyRequest(form="AB", bars=1, seed_melody=("60",) * 16, meter=Meter(4, 4))
    with pytest.raises(InvalidParameter, match="form='ABBA B' is not allowed: none, or parts"):
        MelodyRequest.from_options({"form": "ABBA B"})
    affordable = MelodyRequest(style="irish", bars=32).affordable_forms(Meter(12, 8))
    assert "none" in affordable and "AABBCC" not in affordable
