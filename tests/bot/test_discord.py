"""Prefix commands through discord.py and dpytest, on the real queue and worker."""

from __future__ import annotations

import contextlib
import json
import re
import time

import discord
import discord.ext.test as dpytest
import pytest
import redis
from discord.ext import commands
from dpytest_support import (
    ADMIN_ID,
    SENT_PAYLOADS,
    make_settings,
    midi_file,
    recorded_edits,
    sent_messages,
    started_bot,
)
from tests_support import REDIS_URL

from bot.discord_bot import LstmuseBot
from lstmuse_core.limits import MAX_RANDOM_SEED


async def test_melody_posts_files_embed_and_buttons(discord_bot: LstmuseBot) -> None:
    """!melody: a status reply edited along, then MIDI + MP3 + PNG with an embed and buttons."""
    await dpytest.message(
        '!melody style=tinyfolk temp=0.9 bars=4 key=D seed="D4 E4" random_seed=77'
    )
    messages = sent_messages()
    post = messages[-1]
    names = sorted(a.filename for a in post.attachments)
    stem = names[0].rsplit(".", 1)[0]
    assert re.fullmatch(r"tinyfolk-77-t0_9-[0-9a-f]{6}", stem), names
    assert names == [f"{stem}.mid", f"{stem}.mp3", f"{stem}.png"]
    (embed,) = post.embeds
    fields = {field.name: field.value for field in embed.fields}
    assert fields["Random seed"] == "77" and fields["Key"] == "D major"
    assert fields["Temperature"] == "0.9" and fields["Model"].startswith("v")
    assert "Queued" in messages[0].content or "Done" in messages[0].content
    (payload,) = [p for p in SENT_PAYLOADS if p.get("embeds")]
    buttons = [button for row in payload["components"] for button in row["components"]]
    assert [button["label"] for button in buttons] == ["Re-roll", "Variation", "Continue", "Info"]
    custom_ids = [button["custom_id"] for button in buttons]
    assert all(custom_ids) and len(set(custom_ids)) == 4


async def test_bad_option_is_answered_and_nothing_is_queued(discord_bot: LstmuseBot) -> None:
    """A bad value gets one reply naming the parameter, value and allowed range."""
    # dpytest re-raises a command's error after the bot's handler has replied.
    with pytest.raises(commands.CommandInvokeError):
        await dpytest.message("!melody temp=7")
    (reply,) = sent_messages()
    assert reply.content == "Sorry: temperature=7.0 is not allowed: a number from 0.1 to 2"
    assert await discord_bot.service.limits.jobs_of(dpytest.get_config().members[0].id) == []


async def test_retrain_is_for_admins_only(discord_bot: LstmuseBot) -> None:
    """A member without admin rights is refused politely and nothing is queued."""
    client = redis.Redis.from_url(REDIS_URL)
    queued_before = client.llen("train")
    with pytest.raises(commands.CheckFailure):
        await dpytest.message("!retrain style=tinyfolk epochs=1")
    (reply,) = sent_messages()
    assert "only the server's LSTMuse admins" in reply.content
    assert client.llen("train") == queued_before


async def test_styles_lists_the_catalogue(discord_bot: LstmuseBot) -> None:
    """!styles reads the catalogue the worker published."""
    await dpytest.message("!styles")
    (reply,) = sent_messages()
    assert "**tinyfolk**" in reply.content


async def test_queue_unreachable_is_said_quickly(tmp_path, monkeypatch) -> None:
    """With Redis down the bot answers within a few seconds and keeps running."""
    monkeypatch.chdir(tmp_path)
    settings = make_settings("redis://127.0.0.1:6399/0")
    await started_bot(settings)  # dpytest feeds it from here on
    started = time.monotonic()
    await dpytest.message("!melody bars=2")
    elapsed = time.monotonic() - started
    (reply,) = sent_messages()
    assert "unreachable" in reply.content
    assert elapsed < 10
    with pytest.raises(commands.CommandInvokeError):  # replied to, then re-raised by dpytest
        await dpytest.message("!styles")
    assert "unreachable" in sent_messages()[0].content


async def test_admin_is_recognised(discord_bot: LstmuseBot) -> None:
    """A configured admin id passes the admin check (models lists the versions)."""
    from bot.discord_bot import is_admin

    config = dpytest.get_config()
    guild, member = config.guilds[0], config.members[0]
    admin_user = dpytest.backend.make_user("Admin", "0003", id_num=ADMIN_ID)
    admin = dpytest.backend.make_member(admin_user, guild)
    assert is_admin(discord_bot.settings, admin) and is_admin(discord_bot.settings, admin_user)
    assert not is_admin(discord_bot.settings, member)
    await dpytest.message("!models style=tinyfolk", member=admin)
    (reply,) = sent_messages()
    assert reply.content.startswith("**tinyfolk** (active ")


async def test_admin_needs_configured_ids_not_discord_permissions(discord_bot: LstmuseBot) -> None:
    """Manage Server is never admin; a listed role counts only inside a listed guild."""
    from bot.discord_bot import is_admin

    config = dpytest.get_config()
    guild, member = config.guilds[0], config.members[0]
    managers = dpytest.backend.make_role(
        "Managers", guild, permissions=discord.Permissions(manage_guild=True).value
    )
    await dpytest.add_role(member, managers)
    assert member.guild_permissions.manage_guild
    settings = discord_bot.settings
    assert not is_admin(settings, member)
    with pytest.raises(commands.CheckFailure):
        await dpytest.message("!rollback style=tinyfolk")
    (reply,) = sent_messages()
    assert "only the server's LSTMuse admins" in reply.content

    settings.admin_role_ids = str(managers.id)
    assert not is_admin(settings, member)  # the role is listed, the guild is not
    settings.guild_ids = str(guild.id)
    assert is_admin(settings, member)
    settings.guild_ids = str(guild.id + 1)
    assert not is_admin(settings, member)
    assert not is_admin(settings, member._user)  # a DM: only listed user ids
    settings.admin_user_ids = str(member.id)
    assert is_admin(settings, member._user)


async def test_replies_never_mention_anyone(discord_bot: LstmuseBot) -> None:
    """style=@everyone is refused, echoed short, and the reply allows no mentions."""
    with pytest.raises(commands.CommandInvokeError):
        await dpytest.message("!melody style=@everyone" + "x" * 300)
    (reply,) = sent_messages()
    assert reply.content.startswith("Sorry: style='@everyone")
    assert len(reply.content) < 200
    allowed = SENT_PAYLOADS[-1]["allowed_mentions"]
    assert allowed["parse"] == [] and not allowed.get("users") and not allowed.get("roles")


async def test_finished_results_always_post(discord_bot: LstmuseBot) -> None:
    """The top random seed with count=2 and an 1,800-character instrument still post."""
    instrument = "piano " * 300
    await dpytest.message(
        f"!melody style=tinyfolk bars=1 count=2 random_seed={MAX_RANDOM_SEED} audio=none "
        f'image=none instrument="{instrument}"'
    )
    posts = [message for message in sent_messages() if message.embeds]
    assert len(posts) == 2
    fields = [{f.name: f.value for f in post.embeds[0].fields} for post in posts]
    assert [f["Random seed"] for f in fields] == [str(MAX_RANDOM_SEED), "0"]
    assert {f["Instrument"] for f in fields} == {"Acoustic Grand Piano"}
    assert all(len(value) <= 1024 for f in fields for value in f.values())


async def test_long_catalogue_replies_are_split(discord_bot: LstmuseBot, redis_db) -> None:
    """!styles and !models over 2,000 characters come as several messages."""
    from lstmuse_core.jobs.keys import CATALOGUE_KEY

    version = {"version": "v001", "bits_per_symbol": 1.1, "ngram_bits_per_symbol": 1.2}
    big = {
        f"style{i:03d}": {"description": "d" * 80, "active_version": "v001", "versions": [version]}
        for i in range(60)
    }
    original = redis_db.get(CATALOGUE_KEY)
    redis_db.set(CATALOGUE_KEY, json.dumps(big))
    discord_bot.settings.admin_user_ids = str(dpytest.get_config().members[0].id)
    try:
        await dpytest.message("!styles")
        styles = sent_messages()
        await dpytest.message("!models")
        models = sent_messages()
    finally:
        redis_db.set(CATALOGUE_KEY, original)
    for replies in (styles, models):
        assert len(replies) >= 2
        assert all(0 < len(reply.content) <= 2000 for reply in replies)
        assert "style000" in replies[0].content and "style059" in replies[-1].content


async def test_every_command_says_the_queue_is_unreachable(tmp_path, monkeypatch) -> None:
    """Redis down: melody, queue, cancel, styles and the admin commands answer within seconds."""
    monkeypatch.chdir(tmp_path)
    settings = make_settings("redis://127.0.0.1:6399/0")
    await started_bot(settings)  # dpytest feeds it from here on
    settings.admin_user_ids = str(dpytest.get_config().members[0].id)
    for command in (
        "!queue",
        "!cancel",
        "!retrain style=tinyfolk epochs=1",
        "!rollback tinyfolk",
        "!models",
    ):
        started = time.monotonic()
        with contextlib.suppress(commands.CommandInvokeError):  # re-raised after the reply
            await dpytest.message(command)
        replies = sent_messages()
        assert replies and "unreachable" in replies[-1].content, command
        assert time.monotonic() - started < 15, command


async def test_help_lists_the_commands_and_one_commands_options(discord_bot: LstmuseBot) -> None:
    """!help lists the commands (admin ones marked); !help melody every option and an example."""
    from bot.commands import COMMANDS

    await dpytest.message("!help")
    listing = "\n".join(reply.content for reply in sent_messages())
    for spec in COMMANDS.values():
        assert (f"`!{spec.name}" in listing) == spec.on_discord, spec.name
    assert "`!retrain style=folk" in listing and "*(admins)*: retrain" in listing
    assert "*(admins)*: generate" not in listing
    await dpytest.message("!help m")
    melody = "\n".join(reply.content for reply in sent_messages())
    assert "- `temp` (`temperature`, `t`): 0.1-2, default the style's (0.8);" in melody
    assert "- `count` (`n`): 1-4, default 1;" in melody
    assert "- `audio`: mp3, ogg, wav or none, default mp3;" in melody
    assert all(f"`{spec.name}`" in melody for spec in COMMANDS["melody"].options)
    assert 'Example: `!melody style=folk temp=0.8 seed="C4 D4 E4:2"' in melody


def _worker_models(worker_env: dict[str, str]):
    from pathlib import Path

    return Path(worker_env["LSTMUSE_MODELS_DIR"])


async def test_admin_lists_models(discord_bot: LstmuseBot, worker_env) -> None:
    """A configured admin's !models shows each version with its held-out figures."""
    from lstmuse_core.model import bundle

    discord_bot.settings.admin_user_ids = str(dpytest.get_config().members[0].id)
    models_dir = _worker_models(worker_env)
    active = bundle.active_version("tinyfolk", models_dir)
    metrics = bundle.resolve_bundle("tinyfolk", models_dir).metrics
    await dpytest.message("!models style=tinyfolk")
    (reply,) = sent_messages()
    assert reply.content.startswith(f"**tinyfolk** (active {active}):")
    assert f"- {active}: {metrics['test']['bits_per_symbol']:.3f} bits/symbol (9-gram " in (
        reply.content
    )


async def test_admin_rolls_back(discord_bot: LstmuseBot, worker_env, redis_db) -> None:
    """A configured admin's !rollback makes the previously active version active again."""
    import shutil

    from lstmuse_core.jobs.keys import CATALOGUE_KEY
    from lstmuse_core.model import bundle

    models_dir = _worker_models(worker_env)
    source = bundle.resolve_bundle("tinyfolk", models_dir).path
    style = models_dir / "tinyroll"
    for version in ("v001", "v002"):
        shutil.copytree(source, style / version)
    bundle.set_active("tinyroll", "v001", models_dir)
    bundle.set_active("tinyroll", "v002", models_dir)
    discord_bot.settings.admin_user_ids = str(dpytest.get_config().members[0].id)
    catalogue = redis_db.get(CATALOGUE_KEY)
    try:
        await dpytest.message("!rollback tinyroll")
        (reply,) = sent_messages()
        active = bundle.active_version("tinyroll", models_dir)
    finally:
        shutil.rmtree(style)
        redis_db.set(CATALOGUE_KEY, catalogue)
    assert reply.content == "tinyroll: v001 is active again (was v002)."
    assert active == "v001"


async def test_admin_retrains_from_attached_music(
    discord_bot: LstmuseBot, worker_env, redis_db, erk5_folder
) -> None:
    """A configured admin's !retrain with an ABC file trains, reports epochs and promotes."""
    import shutil

    from lstmuse_core.jobs.keys import CATALOGUE_KEY
    from lstmuse_core.model import bundle

    models_dir = _worker_models(worker_env)
    discord_bot.settings.admin_user_ids = str(dpytest.get_config().members[0].id)
    catalogue = redis_db.get(CATALOGUE_KEY)
    try:
        with recorded_edits() as edits:
            await dpytest.message(
                "!retrain style=tinyretrain preset=tiny epochs=1 force=yes",
                attachments=[str(erk5_folder / "erk5.abc")],  # dpytest reads the path as a URL
            )
        (status,) = sent_messages()
        active = bundle.active_version("tinyretrain", models_dir)
    finally:
        shutil.rmtree(models_dir / "tinyretrain", ignore_errors=True)
        redis_db.set(CATALOGUE_KEY, catalogue)
    assert status.content == "Retraining tinyretrain (tiny) is queued."
    texts = [text for message_id, text in edits if message_id == status.id]
    assert any(text.startswith("Training tinyretrain: epoch 1/1, loss ") for text in texts)
    assert texts[-1].startswith("Retrained **tinyretrain** -> v001: held-out ")
    assert "bits/symbol after 1 epochs" in texts[-1]
    assert active == "v001"


async def test_melody_starts_from_an_attached_midi_seed(discord_bot: LstmuseBot, tmp_path) -> None:
    """An attached .mid is read (in a limited child process) and the melody starts with it."""
    import io

    import pretty_midi

    seed = midi_file(tmp_path / "start.mid", [60, 62, 64, 65])
    await dpytest.message(
        "!melody style=tinyfolk bars=2 random_seed=3 audio=none image=none", attachments=[seed]
    )
    (post,) = [message for message in sent_messages() if message.attachments]
    (midi,) = [a for a in post.attachments if a.filename.endswith(".mid")]
    notes = pretty_midi.PrettyMIDI(io.BytesIO(await midi.read())).instruments[0].notes
    assert [note.pitch for note in notes[:4]] == [60, 62, 64, 65]


async def test_melody_starts_from_an_attached_abc_tune(discord_bot: LstmuseBot, tmp_path) -> None:
    """An attached .abc tune is a seed as a MIDI file is: its notes start the melody, in
    the key its K: states (E dorian: the F is sharp), read in the limited child."""
    import io

    import pretty_midi

    seed = tmp_path / "start.abc"
    seed.write_text("X:1\nT:Start\nM:4/4\nL:1/4\nK:Edor\nE F G A|\n", encoding="utf-8")
    with recorded_edits() as edits:
        await dpytest.message(
            "!melody style=tinyfolk bars=2 random_seed=3 audio=none image=none",
            attachments=[str(seed)],
        )
    (status, post) = sent_messages()
    assert status.content == "Reading your seed ABC tune..."
    assert all("Sorry" not in text for _, text in edits)
    assert "E dorian" in str(post.embeds[0].to_dict())
    (midi,) = [a for a in post.attachments if a.filename.endswith(".mid")]
    notes = pretty_midi.PrettyMIDI(io.BytesIO(await midi.read())).instruments[0].notes
    assert [note.pitch for note in notes[:4]] == [64, 66, 67, 69]


async def test_a_dense_midi_seed_is_refused_by_name(discord_bot: LstmuseBot, tmp_path) -> None:
    """A MIDI seed with too many notes gets one reply naming the file; nothing is queued."""
    from lstmuse_core.music.seed_file import MAX_SEED_FILE_NOTES

    seed = midi_file(tmp_path / "dense.mid", [60, 62] * MAX_SEED_FILE_NOTES, ticks_per_note=2)
    with recorded_edits() as edits:
        await dpytest.message("!melody style=tinyfolk bars=2", attachments=[seed])
    (status,) = sent_messages()
    assert status.content == "Reading your seed MIDI file..."
    ((message_id, text),) = edits
    assert message_id == status.id and text.startswith("Sorry: seed='dense.mid' is not allowed")
    assert f"at most {MAX_SEED_FILE_NOTES} notes" in text
    assert await discord_bot.service.limits.jobs_of(dpytest.get_config().members[0].id) == []


async def test_files_follow_the_servers_upload_limit(
    discord_bot: LstmuseBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """!melody in a server allowing 4 KiB a message: the MIDI file is posted, the larger
    audio and picture are named as left out."""
    monkeypatch.setattr(discord.Guild, "filesize_limit", property(lambda guild: 4096))
    await dpytest.message("!melody style=tinyfolk bars=2 random_seed=3")
    messages = sent_messages()
    (post,) = [message for message in messages if message.attachments]
    assert [a.filename.rsplit(".", 1)[1] for a in post.attachments] == ["mid"]
    (note,) = [message for message in messages if "Left out" in message.content]
    assert "over the upload limit here (4 KiB)" in note.content
    assert ".mp3 (" in note.content and ".png (" in note.content


async def test_melody_with_a_form_says_it_and_writes_its_repeats(discord_bot: LstmuseBot) -> None:
    """!melody form=A1A2BB bars=2: the reply says the form, the ABC writes each part once
    with repeat signs and endings, the MIDI plays it through (3 + 2 bars a part, twice)."""
    import io

    import pretty_midi

    await dpytest.message(
        "!melody style=tinyfolk form=a1a2bb bars=2 meter=4/4 bpm=120 random_seed=5 audio=none "
        "export=abc"
    )
    post = sent_messages()[-1]
    fields = {field.name: field.value for field in post.embeds[0].fields}
    assert fields["Form"] == "A1A2BB, 2 x 2 bars of 4/4, 4 bars played twice"
    (abc,) = [a for a in post.attachments if a.filename.endswith(".abc")]
    text = (await abc.read()).decode()
    assert "N:A1A2BB, 2 x 2 bars of 4/4" in text
    assert text.count("|:") == 2 and text.count(":|") == 2 and "[1" in text and "[2" in text
    (midi,) = [a for a in post.attachments if a.filename.endswith(".mid")]
    notes = pretty_midi.PrettyMIDI(io.BytesIO(await midi.read())).instruments[0].notes
    bar_seconds = 2.0  # 4/4 at 120 quarters a minute
    # 8 bars played after the first note's bar line (a pickup bar, if any, before them).
    assert max(note.end for note in notes) > 7 * bar_seconds


async def test_an_unknown_form_is_refused_by_name_before_queued(discord_bot: LstmuseBot) -> None:
    """form=AAAB and a form too long for the step limit are answered naming the option."""
    with pytest.raises(commands.CommandInvokeError):
        await dpytest.message("!melody form=AAAB")
    (reply,) = sent_messages()
    assert reply.content.startswith("Sorry: form='AAAB' is not allowed: a part played at most")
    with pytest.raises(commands.CommandInvokeError):
        await dpytest.message("!melody form=AABBCCDD bars=64")
    assert sent_messages()[-1].content.startswith("Sorry: bars=64 is not allowed: at most 1024")
    assert await discord_bot.service.limits.jobs_of(dpytest.get_config().members[0].id) == []
