"""Melodies for everyone: melody (text and slash), styles, queue, cancel, and the buttons."""

from __future__ import annotations

import io
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.cogs.errors import APOLOGY
from bot.commands import COMMANDS, apply_to_slash
from bot.options import parse_options
from bot.replies import split_reply
from bot.service import LstmuseService, MelodyPost
from lstmuse_core.errors import LstmuseError
from lstmuse_core.music.seed_file import check_seed_file_size, read_seed_file
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


def melody_files(post: MelodyPost) -> list[discord.File]:
    return [discord.File(io.BytesIO(data), filename=name) for name, data in post.files]


class MelodyButtons(discord.ui.View):
    """Re-roll, Variation, Continue (the requester only: they spend quota) and Info."""

    def __init__(self, cog: Melodies, post: MelodyPost, owner_id: int, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self.cog = cog
        self.post = post
        self.owner_id = owner_id

    async def _again(
        self, interaction: discord.Interaction, make: Callable[[MelodyPost], MelodyRequest]
    ) -> None:
        if interaction.user.id != self.owner_id:
            await interaction.response.send_message(
                "Only the member who asked for this melody can use that button; try `/melody`.",
                ephemeral=True,
            )
            return
        try:  # e.g. Continue after 64 bars, or more WAV audio than a message can carry
            request = make(self.post)
        except LstmuseError as error:
            await interaction.response.send_message(f"Sorry: {error}", ephemeral=True)
            return
        await interaction.response.defer(thinking=True)
        status = StatusMessage(lambda text: interaction.followup.send(text, wait=True))
        await self.cog.run_and_post(
            interaction.user.id, request, status, lambda **kw: interaction.followup.send(**kw)
        )

    @discord.ui.button(label="Re-roll", emoji="🎲", style=discord.ButtonStyle.primary)
    async def reroll(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        await self._again(interaction, LstmuseService.reroll)

    @discord.ui.button(label="Variation", emoji="🎛️", style=discord.ButtonStyle.secondary)
    async def variation(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        await self._again(interaction, LstmuseService.variation)

    @discord.ui.button(label="Continue", emoji="➡️", style=discord.ButtonStyle.secondary)
    async def continuation(
        self, interaction: discord.Interaction, _: discord.ui.Button[Any]
    ) -> None:
        await self._again(interaction, LstmuseService.continuation)

    @discord.ui.button(label="Info", emoji="ℹ️", style=discord.ButtonStyle.secondary)
    async def info(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        symbols = " ".join(self.post.symbols)
        text = (
            f"{self.post.caption()}\nSymbols (one per 16th note; pitch = MIDI number, "
            f"`_` hold, `r` rest):\n```{symbols[:1700]}```"
        )
        await interaction.response.send_message(text, ephemeral=True)


class Melodies(commands.Cog):
    """Melodies for everyone."""

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        self.service: LstmuseService = bot.service  # type: ignore[attr-defined]
        self.settings = bot.settings  # type: ignore[attr-defined]

    async def run_and_post(
        self,
        user_id: int,
        request: MelodyRequest,
        status: StatusMessage,
        send: Callable[..., Awaitable[Any]],
    ) -> None:
        """The whole flow: queue, edit the status, post one message per melody."""
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
            view = MelodyButtons(self, post, user_id, self.settings.button_timeout_seconds)
            await send(embed=melody_embed(post), files=melody_files(post), view=view)
        await status.update(f"Done: {len(posts)} melod{'y' if len(posts) == 1 else 'ies'} below.")

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
        midi = next(
            (a for a in ctx.message.attachments if a.filename.lower().endswith((".mid", ".midi"))),
            None,
        )
        status = StatusMessage(lambda text: ctx.reply(text, mention_author=False))
        if midi is not None:
            await status.update("Reading your MIDI seed...")
            try:
                request = await self._seed_from(midi, request, typed)
            except LstmuseError as error:
                await status.update(f"Sorry: {error}")
                return
        await self.run_and_post(ctx.author.id, request, status, ctx.send)

    @staticmethod
    async def _seed_from(
        attachment: discord.Attachment, request: MelodyRequest, typed: dict[str, str]
    ) -> MelodyRequest:
        """``request`` starting with the attachment's top voice, in its key and tempo
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
        meter: str | None = None,
        mode: str | None = None,
        key: str | None = None,
        bpm: float | None = None,
        instrument: str | None = None,
        count: int | None = None,
        random_seed: int | None = None,
        options: str | None = None,
        seed_midi: discord.Attachment | None = None,
    ) -> None:
        """/melody: the common options as parameters, every other one in ``options``."""
        typed = {
            "style": style,
            "temp": temp,
            "seed": seed,
            "bars": bars,
            "meter": meter,
            "mode": mode,
            "key": key,
            "bpm": bpm,
            "instrument": instrument,
            "count": count,
            "random_seed": random_seed,
        }
        # The free text first: a typed parameter wins over the same option written in it.
        given = {
            **parse_options(options or ""),
            **{name: str(value) for name, value in typed.items() if value is not None},
        }
        request = MelodyRequest.from_options(given)
        await interaction.response.defer(thinking=True)  # within Discord's 3 s
        status = StatusMessage(lambda text: interaction.followup.send(text, wait=True))
        if seed_midi is not None:
            await status.update("Reading your MIDI seed...")
            try:
                request = await self._seed_from(seed_midi, request, given)
            except LstmuseError as error:
                await status.update(f"Sorry: {error}")
                return
        await self.run_and_post(
            interaction.user.id, request, status, lambda **kw: interaction.followup.send(**kw)
        )

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


apply_to_slash(
    Melodies.melody_slash,
    MELODY,
    options="any other option as name=value, e.g. top_p=0.9 audio=ogg steps=256",
    seed_midi="a MIDI file to start from",
)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Melodies(bot))
