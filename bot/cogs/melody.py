"""Melodies for everyone: melody (text and slash), styles, queue, cancel, and the buttons."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import suggestions
from bot.cogs.errors import APOLOGY
from bot.commands import COMMANDS, apply_to_slash
from bot.options import options_from_slash, parse_options
from bot.posts import PostStore
from bot.replies import group_files, split_reply
from bot.service import LstmuseService, MelodyPost
from lstmuse_core.errors import LstmuseError
from lstmuse_core.jobs.catalogue import Catalogue
from lstmuse_core.music.seed_file import check_seed_file_size, read_seed_file
from lstmuse_core.music.tune_file import FORMAT_NAMES, TUNE_FILE_SUFFIXES, format_by_suffix
from lstmuse_core.options import MELODY_OPTIONS, option_fields
from lstmuse_core.request import MelodyRequest

log = logging.getLogger(__name__)
MELODY = COMMANDS["melody"]


class StatusMessage:
    """One message edited as the job moves on (created on the first update).

    An interaction's follow-up can be edited for 15 minutes only, and a
    retrain runs for hours: when an edit fails, the status goes on in a new
    message sent with ``fallback`` (a plain channel message stays editable).
    """

    def __init__(
        self,
        send: Callable[[str], Awaitable[Any]],
        fallback: Callable[[str], Awaitable[Any]] | None = None,
    ) -> None:
        self.send = send
        self.fallback = fallback
        self.message: Any = None

    async def update(self, text: str) -> None:
        if self.message is None:
            self.message = await self.send(text)
            return
        try:
            await self.message.edit(content=text)
        except discord.HTTPException:
            if self.fallback is None:
                raise
            log.info("a status message can no longer be edited; continuing in a new one")
            self.send, self.fallback = self.fallback, None
            self.message = await self.send(text)


def melody_embed(post: MelodyPost) -> discord.Embed:
    embed = discord.Embed(title=f"A {post.style} melody", colour=discord.Colour.blurple())
    for name, value in post.facts.items():
        embed.add_field(name=name, value=value, inline=True)
    if post.problems:
        embed.set_footer(text="; ".join(post.problems)[:2000])
    return embed


def attachments(files: list[tuple[str, bytes]]) -> list[discord.File]:
    return [discord.File(io.BytesIO(data), filename=name) for name, data in files]


async def send_with_files(
    send: Callable[..., Awaitable[Any]],
    files: list[tuple[str, bytes]],
    upload_limit: int,
    **first: Any,
) -> None:
    """``first`` (an embed, a text, buttons) with the files that fit in one message,
    any others in messages after it, and the name of a file over the limit."""
    groups, left_out = group_files(files, upload_limit)
    head, *more = groups or [[]]  # every file left out: the message alone, then why
    await send(files=attachments(head), **first)
    for group in more:
        await send(files=attachments(group))
    if left_out:
        await send(
            content=f"Left out, over the upload limit here ({_size(upload_limit)}): "
            + ", ".join(f"{name} ({_size(size)})" for name, size in left_out)
        )


def upload_limit(ctx: commands.Context[commands.Bot]) -> int:
    """The most bytes of files one message may carry where ``ctx`` was typed: a DM has
    Discord's default limit; a server's grows with its boosts."""
    return ctx.guild.filesize_limit if ctx.guild else discord.utils.DEFAULT_FILE_SIZE_LIMIT_BYTES


def _size(n_bytes: int) -> str:
    return f"{n_bytes / 2**20:.1f} MiB" if n_bytes >= 2**20 else f"{n_bytes / 1024:.0f} KiB"


# What each button makes of the post it sits under (Info makes nothing: it answers).
AGAIN: dict[str, Callable[[MelodyPost], MelodyRequest]] = {
    "reroll": LstmuseService.reroll,
    "variation": LstmuseService.variation,
    "continue": LstmuseService.continuation,
}
BUTTON_LOOKS: dict[str, tuple[str, str, discord.ButtonStyle]] = {  # label, emoji, style
    "reroll": ("Re-roll", "🎲", discord.ButtonStyle.primary),
    "variation": ("Variation", "🎛️", discord.ButtonStyle.secondary),
    "continue": ("Continue", "➡️", discord.ButtonStyle.secondary),
    "info": ("Info", "ℹ️", discord.ButtonStyle.secondary),
}
EXPIRED = (
    "This melody is no longer kept, so its buttons cannot reuse it; "
    "ask for a new one with `/melody`."
)


class MelodyButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"melody:(?P<action>reroll|variation|continue|info):(?P<post>[0-9a-f]{32}):(?P<owner>[0-9]{1,20})",
):
    """Re-roll, Variation, Continue (the requester only: they spend quota) and Info.

    The custom id says everything a press needs to find its melody (the
    post's id in `bot.posts`, and its requester), so a button keeps working
    after a restart: discord.py matches the id against ``template`` in any
    bot process that registered this class (`setup`).
    """

    def __init__(self, action: str, post_id: str, owner_id: int) -> None:
        label, emoji, style = BUTTON_LOOKS[action]
        super().__init__(
            discord.ui.Button(
                label=label,
                emoji=emoji,
                style=style,
                custom_id=f"melody:{action}:{post_id}:{owner_id}",
            )
        )
        self.action, self.post_id, self.owner_id = action, post_id, owner_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> MelodyButton:
        return cls(match["action"], match["post"], int(match["owner"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        cog = interaction.client.get_cog(Melodies.__cog_name__)  # type: ignore[attr-defined]
        assert isinstance(cog, Melodies)
        if self.action != "info" and interaction.user.id != self.owner_id:
            await interaction.response.send_message(
                "Only the member who asked for this melody can use that button; try `/melody`.",
                ephemeral=True,
            )
            return
        try:
            post = await cog.posts.find(self.post_id)
        except LstmuseError as error:  # Redis unreachable: say so, as every command does
            await interaction.response.send_message(f"Sorry: {error}", ephemeral=True)
            return
        if post is None:
            await interaction.response.send_message(EXPIRED, ephemeral=True)
        elif self.action == "info":
            await interaction.response.send_message(_info(post), ephemeral=True)
        else:
            await self._again(cog, interaction, post)

    async def _again(
        self, cog: Melodies, interaction: discord.Interaction, post: MelodyPost
    ) -> None:
        try:  # e.g. Continue after 64 bars, or more WAV audio than a message can carry
            request = AGAIN[self.action](post)
        except LstmuseError as error:
            await interaction.response.send_message(f"Sorry: {error}", ephemeral=True)
            return
        await interaction.response.defer(thinking=True)
        status = StatusMessage(lambda text: interaction.followup.send(text, wait=True))
        await cog.run_and_post(
            interaction.user.id,
            request,
            status,
            lambda **kw: interaction.followup.send(**kw),
            interaction.filesize_limit,
        )


def melody_buttons(post_id: str, owner_id: int) -> discord.ui.View:
    """The four buttons under a melody, for as long as `bot.posts` keeps it."""
    view = discord.ui.View(timeout=None)
    for action in BUTTON_LOOKS:
        view.add_item(MelodyButton(action, post_id, owner_id))
    return view


def _info(post: MelodyPost) -> str:
    symbols = " ".join(post.symbols)
    return (
        f"{post.caption()}\nSymbols (one per 16th note; pitch = MIDI number, "
        f"`_` hold, `r` rest):\n```{symbols[:1700]}```"
    )


def _choices(values: list[str]) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=value, value=value) for value in values]


class Melodies(commands.Cog):
    """Melodies for everyone."""

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        self.service: LstmuseService = bot.service  # type: ignore[attr-defined]
        self.posts: PostStore = bot.posts  # type: ignore[attr-defined]

    async def run_and_post(
        self,
        user_id: int,
        request: MelodyRequest,
        status: StatusMessage,
        send: Callable[..., Awaitable[Any]],
        upload_limit: int,
    ) -> None:
        """The whole flow: queue, edit the status, post each melody (`_post`).

        ``upload_limit``: the most bytes of files one message may carry where
        the melodies are posted (`discord.Guild.filesize_limit`, or what the
        interaction says).
        """
        try:
            posts = await self.service.melody(user_id, request, status.update)
        except LstmuseError as error:
            await status.update(f"Sorry: {error}")
            return
        except Exception:
            log.exception("melody for %s failed", user_id)
            await status.update(APOLOGY)
            return
        for post in posts:
            await self._post(post, user_id, send, upload_limit)
        await status.update(f"Done: {len(posts)} melod{'y' if len(posts) == 1 else 'ies'} below.")

    async def _post(
        self,
        post: MelodyPost,
        user_id: int,
        send: Callable[..., Awaitable[Any]],
        upload_limit: int,
    ) -> None:
        """One melody: its embed and buttons with its files (`send_with_files`)."""
        buttons = {}
        try:
            buttons["view"] = melody_buttons(await self.posts.keep(post), user_id)
        except LstmuseError:  # Redis went away after the job: post it without buttons
            log.warning("could not keep a post for its buttons", exc_info=True)
        await send_with_files(send, post.files, upload_limit, embed=melody_embed(post), **buttons)

    @commands.command(
        name=MELODY.name,
        aliases=list(MELODY.aliases),
        help=MELODY.help_text(),
        brief=MELODY.summary,
    )
    async def melody_text(self, ctx: commands.Context[commands.Bot], *, options: str = "") -> None:
        """Generate a melody (the help text is the command table's: `bot.commands`)."""
        typed = parse_options(options)
        request = MelodyRequest.from_options(typed)
        seed_file = next(
            (a for a in ctx.message.attachments if a.filename.lower().endswith(TUNE_FILE_SUFFIXES)),
            None,
        )
        status = StatusMessage(lambda text: ctx.reply(text, mention_author=False))
        if seed_file is not None:
            await status.update(f"Reading your seed {_format_name(seed_file.filename)}...")
            try:
                request = await self._seed_from(seed_file, request, typed)
            except LstmuseError as error:
                await status.update(f"Sorry: {error}")
                return
        await self.run_and_post(ctx.author.id, request, status, ctx.send, upload_limit(ctx))

    @staticmethod
    async def _seed_from(
        attachment: discord.Attachment, request: MelodyRequest, typed: dict[str, str]
    ) -> MelodyRequest:
        """``request`` starting with the attachment's melody (a MIDI, MusicXML or ABC
        file: its melody part, else its top voice), in its key and tempo
        where the member typed none (``typed``: their options); read in a child
        process with time and size limits."""
        check_seed_file_size(attachment.size, attachment.filename)  # before downloading it
        seed = await read_seed_file(await attachment.read(), attachment.filename)
        return request.with_seed_file(seed, option_fields(MELODY_OPTIONS, typed))

    @app_commands.command(name=MELODY.name, description=MELODY.summary)
    async def melody_slash(
        self,
        interaction: discord.Interaction,
        style: str | None = None,
        temp: float | None = None,
        seed: str | None = None,
        bars: int | None = None,
        form: str | None = None,
        meter: str | None = None,
        mode: str | None = None,
        key: str | None = None,
        bpm: float | None = None,
        instrument: str | None = None,
        count: int | None = None,
        random_seed: int | None = None,
        options: str | None = None,
        seed_file: discord.Attachment | None = None,
    ) -> None:
        """/melody: the common options as parameters, every other one in ``options``."""
        typed = {
            "style": style,
            "temp": temp,
            "seed": seed,
            "bars": bars,
            "form": form,
            "meter": meter,
            "mode": mode,
            "key": key,
            "bpm": bpm,
            "instrument": instrument,
            "count": count,
            "random_seed": random_seed,
        }
        given = options_from_slash(typed, options)
        request = MelodyRequest.from_options(given)
        await interaction.response.defer(thinking=True)  # within Discord's 3 s
        status = StatusMessage(lambda text: interaction.followup.send(text, wait=True))
        if seed_file is not None:
            await status.update(f"Reading your seed {_format_name(seed_file.filename)}...")
            try:
                request = await self._seed_from(seed_file, request, given)
            except LstmuseError as error:
                await status.update(f"Sorry: {error}")
                return
        await self.run_and_post(
            interaction.user.id,
            request,
            status,
            lambda **kw: interaction.followup.send(**kw),
            interaction.filesize_limit,  # Discord's own figure for this channel, DMs included
        )

    async def _catalogue(self) -> Catalogue:
        """The published catalogue, or none while the queue is unreachable (suggest nothing)."""
        try:
            return await self.service.jobs.catalogue()
        except LstmuseError:
            return {}

    @melody_slash.autocomplete("style")
    async def _suggest_style(
        self, interaction: discord.Interaction, typed: str
    ) -> list[app_commands.Choice[str]]:
        return _choices(suggestions.styles(await self._catalogue(), typed))

    @melody_slash.autocomplete("meter")
    async def _suggest_meter(
        self, interaction: discord.Interaction, typed: str
    ) -> list[app_commands.Choice[str]]:
        style = interaction.namespace.style
        return _choices(suggestions.meters(await self._catalogue(), style, typed))

    @melody_slash.autocomplete("mode")
    async def _suggest_mode(
        self, interaction: discord.Interaction, typed: str
    ) -> list[app_commands.Choice[str]]:
        style = interaction.namespace.style
        return _choices(suggestions.modes(await self._catalogue(), style, typed))

    @melody_slash.autocomplete("key")
    async def _suggest_key(
        self, interaction: discord.Interaction, typed: str
    ) -> list[app_commands.Choice[str]]:
        keys = suggestions.keys(interaction.namespace.mode, typed)
        return [app_commands.Choice(name=label, value=key) for label, key in keys]

    @melody_slash.autocomplete("instrument")
    async def _suggest_instrument(
        self, interaction: discord.Interaction, typed: str
    ) -> list[app_commands.Choice[str]]:
        return _choices(suggestions.instruments(typed))

    @commands.hybrid_command(name="styles", description=COMMANDS["styles"].summary)  # type: ignore[arg-type]
    async def styles(self, ctx: commands.Context[commands.Bot]) -> None:
        """List the styles with their active model version."""
        for text in split_reply(await self.service.styles()):
            await ctx.send(text)

    @commands.hybrid_command(name="queue", description=COMMANDS["queue"].summary)  # type: ignore[arg-type]
    async def queue(self, ctx: commands.Context[commands.Bot]) -> None:
        """Show your jobs and their places in the queue."""
        for text in split_reply(await self.service.queue(ctx.author.id)):
            await ctx.send(text)

    @commands.hybrid_command(name="cancel", description=COMMANDS["cancel"].summary)  # type: ignore[arg-type]
    async def cancel(self, ctx: commands.Context[commands.Bot]) -> None:
        """Cancel your most recent queued job."""
        await ctx.send(await self.service.cancel(ctx.author.id))


def _format_name(file_name: str) -> str:
    """``MIDI file``, ``ABC tune``, ``MusicXML score``: what a seed file is, by its suffix
    (a seed attachment is picked by `TUNE_FILE_SUFFIXES`)."""
    return FORMAT_NAMES[format_by_suffix(file_name) or "midi"]


apply_to_slash(
    Melodies.melody_slash,
    MELODY,
    options="any other option as name=value, e.g. top_p=0.9 audio=ogg steps=256",
    seed_file="a MIDI, MusicXML or ABC file to start from",
)


async def setup(bot: commands.Bot) -> None:
    bot.add_dynamic_items(MelodyButton)  # buttons posted before a restart work again
    await bot.add_cog(Melodies(bot))
