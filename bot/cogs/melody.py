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
from bot.options import request_from_text
from bot.replies import split_reply
from bot.service import LstmuseService, MelodyPost
from lstmuse_core.errors import InvalidParameter, LstmuseError
from lstmuse_core.request import MelodyRequest
from lstmuse_core.seed_file import MAX_SEED_FILE_BYTES, read_seed_file

log = logging.getLogger(__name__)


class StatusMessage:
    """One message edited as the job moves on (created on the first update)."""

    def __init__(self, send: Callable[[str], Awaitable[Any]]) -> None:
        self.send = send
        self.message: Any = None

    async def update(self, text: str) -> None:
        if self.message is None:
            self.message = await self.send(text)
        else:
            await self.message.edit(content=text)


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

    async def _again(self, interaction: discord.Interaction, request: MelodyRequest) -> None:
        if interaction.user.id != self.owner_id:
            await interaction.response.send_message(
                "Only the member who asked for this melody can use that button; try `/melody`.",
                ephemeral=True,
            )
            return
        await interaction.response.defer(thinking=True)
        status = StatusMessage(lambda text: interaction.followup.send(text, wait=True))
        await self.cog.run_and_post(
            interaction.user.id, request, status, lambda **kw: interaction.followup.send(**kw)
        )

    @discord.ui.button(label="Re-roll", emoji="🎲", style=discord.ButtonStyle.primary)
    async def reroll(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        await self._again(interaction, LstmuseService.reroll(self.post))

    @discord.ui.button(label="Variation", emoji="🎛️", style=discord.ButtonStyle.secondary)
    async def variation(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        await self._again(interaction, LstmuseService.variation(self.post))

    @discord.ui.button(label="Continue", emoji="➡️", style=discord.ButtonStyle.secondary)
    async def continuation(
        self, interaction: discord.Interaction, _: discord.ui.Button[Any]
    ) -> None:
        await self._again(interaction, LstmuseService.continuation(self.post))

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

    @commands.command(name="melody", aliases=["m"])
    async def melody_text(self, ctx: commands.Context, *, options: str = "") -> None:
        """Generate a melody. Options, all optional, as name=value:

        style=folk|irish|fiddle|scottish|...  temp=0.1-2 (lower is safer)
        seed="C4 D4 E4:2" (note names, :length in quarter notes) or seed="60 _ 62 _"
        (or attach a .mid file to start from)  bars=1-64  key=D|Am|F#...
        bpm=20-300  instrument=piano|flute|violin|...  count=1-4  random_seed=N
        time_signature=3/4 (1-16 beats of 2, 4, 8 or 16)  audio=mp3|ogg|wav|none
        Limits: a melody is at most 1024 16th notes (64 bars of 4/4), seed included;
        a seed at most 512; its audio at most 6 minutes.
        Example: !melody style=folk temp=0.8 seed="C4 D4 E4:2" bars=8 key=D
        """
        request = request_from_text(options)
        midi = next(
            (a for a in ctx.message.attachments if a.filename.lower().endswith((".mid", ".midi"))),
            None,
        )
        status = StatusMessage(lambda text: ctx.reply(text, mention_author=False))
        if midi is not None:
            await status.update("Reading your MIDI seed...")
            try:
                request = request.replace(seed_melody=await self._seed_from(midi))
            except LstmuseError as error:
                await status.update(f"Sorry: {error}")
                return
        await self.run_and_post(ctx.author.id, request, status, ctx.send)

    @staticmethod
    async def _seed_from(attachment: discord.Attachment) -> tuple[str, ...]:
        """The attachment's top voice, read in a child process with time and size limits."""
        if attachment.size > MAX_SEED_FILE_BYTES:
            raise InvalidParameter(
                "seed", attachment.filename, f"a MIDI file of at most {MAX_SEED_FILE_BYTES} bytes"
            )
        return tuple(await read_seed_file(await attachment.read(), attachment.filename))

    @app_commands.command(name="melody", description="Generate a melody with LSTMuse")
    @app_commands.describe(
        style="folk, irish, fiddle, chorale or scottish",
        temp="0.1-2; lower is safer",
        seed='a start: "C4 D4 E4:2" or "60 _ 62 _"',
        bars="length, 1-64 bars",
        key="e.g. D, Am, F#",
        bpm="tempo, 20-300",
        instrument="piano, flute, violin, ...",
        count="1-4 melodies",
        random_seed="same seed, same melody",
        seed_midi="a MIDI file to start from",
    )
    async def melody_slash(
        self,
        interaction: discord.Interaction,
        style: str | None = None,
        temp: float | None = None,
        seed: str | None = None,
        bars: int | None = None,
        key: str | None = None,
        bpm: float | None = None,
        instrument: str | None = None,
        count: int | None = None,
        random_seed: int | None = None,
        seed_midi: discord.Attachment | None = None,
    ) -> None:
        options = {
            name: str(value)
            for name, value in {
                "style": style,
                "temp": temp,
                "seed": seed,
                "bars": bars,
                "key": key,
                "bpm": bpm,
                "instrument": instrument,
                "count": count,
                "random_seed": random_seed,
            }.items()
            if value is not None
        }
        request = MelodyRequest.from_options(options)
        await interaction.response.defer(thinking=True)  # within Discord's 3 s
        status = StatusMessage(lambda text: interaction.followup.send(text, wait=True))
        if seed_midi is not None:
            await status.update("Reading your MIDI seed...")
            try:
                request = request.replace(seed_melody=await self._seed_from(seed_midi))
            except LstmuseError as error:
                await status.update(f"Sorry: {error}")
                return
        await self.run_and_post(
            interaction.user.id, request, status, lambda **kw: interaction.followup.send(**kw)
        )

    @commands.hybrid_command(name="styles")
    async def styles(self, ctx: commands.Context) -> None:
        """List the styles with their active model version."""
        for text in split_reply(await self.service.styles()):
            await ctx.send(text)

    @commands.hybrid_command(name="queue")
    async def queue(self, ctx: commands.Context) -> None:
        """Show your jobs and their places in the queue."""
        for text in split_reply(await self.service.queue(ctx.author.id)):
            await ctx.send(text)

    @commands.hybrid_command(name="cancel")
    async def cancel(self, ctx: commands.Context) -> None:
        """Cancel your most recent queued job."""
        await ctx.send(await self.service.cancel(ctx.author.id))


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Melodies(bot))
