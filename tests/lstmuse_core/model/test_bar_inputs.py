"""Songs whose bars change length: the network is told each bar's place, meter and length,
from a real Chinese song with a bar of 3/4 in 2/4, and trains on them."""

from __future__ import annotations

import numpy as np

from lstmuse_core.model.batches import TrainingSong, song_batches
from lstmuse_core.model.conditioning import Conditioning, remaining_class, song_inputs
from lstmuse_core.music.corpus import (
    ReadOptions,
    Song,
    music21_corpus_root,
    read_abc_tunes,
    split_abc_tunes,
)
from lstmuse_core.music.encoding import SONG_END, Vocabulary
from lstmuse_core.music.meter import Meter


def _han1(number: int) -> Song:
    tunes = split_abc_tunes(
        (music21_corpus_root() / "essenFolksong" / "han1.abc").read_text(encoding="latin-1")
    )
    (song,) = read_abc_tunes([tunes[number - 1]], "han1.abc", ReadOptions(), number)
    assert isinstance(song, Song), song
    return song


def test_each_bar_is_told_its_own_place_meter_and_the_bars_left() -> None:
    """han1 #24, in 2/4 with a bar of 3/4 (its third): ``position`` runs 0-11 in that bar
    and starts again on every written bar line; ``meter`` says 3/4 there and 2/4 elsewhere;
    the lookbacks read the same place one and two bars back; ``remaining`` counts bars."""
    song = _han1(24)
    assert song.bars[:4] == (8, 8, 12, 8)
    conditioning = Conditioning.from_songs([song])
    assert conditioning.bar_meters == (Meter(3, 4),)
    steps = np.arange(len(song.symbols))
    inputs = song_inputs(
        steps,  # each step its own "symbol", so lookbacks show which step they read
        bar_steps=song.meter.bar_steps,
        meter_id=conditioning.meter_id(song.meter),
        mode_id=0,
        delimiter=-1,
        length_known=True,
        bars=song.bars,
        bar_meter_ids=conditioning.bar_meter_ids(song.meter, song.bars),
    )
    position = inputs["position"]
    assert position[16:28].tolist() == list(range(12))  # the bar of 3/4
    assert position[28:36].tolist() == list(range(8))  # 2/4 again, from its bar line
    three_four = conditioning.bar_meter_ids(song.meter, (12,))[0]
    two_four = conditioning.meter_id(Meter(2, 4))
    assert set(inputs["meter"][16:28]) == {three_four} and three_four != two_four
    assert set(inputs["meter"][:16]) == set(inputs["meter"][28:36]) == {two_four}
    # One bar back from the 3/4 bar's 9th 16th: the 2/4 bar has none (the delimiter's
    # "nothing"); from the next bar's 2nd 16th: the 3/4 bar's 2nd.
    assert inputs["lookback_1"][16 + 8] == -1 and inputs["lookback_1"][28 + 1] == 16 + 1
    assert inputs["lookback_2"][28 + 1] == 8 + 1
    bars = len(song.bars)
    assert inputs["remaining"][16] == remaining_class(2, bars)
    assert inputs["remaining"][len(song.symbols) - 1] == remaining_class(bars - 1, bars)


def test_a_batch_trains_on_a_song_that_changes_meter() -> None:
    """`song_batches` reads the song's bars: the 3/4 bar's meter id is in the batch."""
    song = _han1(24)
    vocabulary = Vocabulary.from_songs([song.symbols])
    conditioning = Conditioning.from_songs([song])
    training = TrainingSong(
        vocabulary.encode(song.symbols), song.meter, song.mode, song.sections, song.bars
    )
    (batch,) = song_batches([training], conditioning, 4, 16, vocabulary.index[SONG_END])
    three_four = conditioning.bar_meter_ids(song.meter, (12,))[0]
    assert batch.inputs["meter"][0, 16:28].tolist() == [three_four] * 12
    assert batch.inputs["position"][0, 27] == 11
