"""MP3 files: LAME (lameenc) in-process, with the Xing header players need.

lameenc writes bare frames; without a Xing header in front, players guess a
VBR file's length from its first frame and seek to the wrong places, so
`encode_mp3` writes one (frame count, byte count, seek table) itself.
"""

from __future__ import annotations

from lstmuse_core.errors import MissingToolError, RenderError
from lstmuse_core.music.formats import SAMPLE_RATE

# LAME settings, as `lame -V 5 -q 7` (what ffmpeg's `-q:a 5 -compression_level 7` set):
MP3_VBR_MODE = 4  # vbr_mtrh, LAME's default VBR mode
MP3_VBR_QUALITY = 5  # ~55 kb/s for one mono instrument, transparent enough for it
MP3_ALGORITHM_QUALITY = 7  # LAME's faster psychoacoustics: ~40 % less time, no larger file


def encode_mp3(pcm: bytes, sample_rate: int = SAMPLE_RATE) -> bytes:
    """Encode mono 16-bit little-endian ``pcm`` at ``sample_rate`` Hz as a VBR MP3 file.

    LAME runs with the settings ffmpeg used before (`MP3_VBR_QUALITY`,
    `MP3_ALGORITHM_QUALITY`); lameenc writes bare frames, so a Xing header is
    put in front (`_xing_frame`): without it players guess a VBR file's length
    from its first frame and seek to the wrong places.
    """
    try:
        import lameenc
    except ImportError as error:
        raise MissingToolError("lameenc", "pip install 'lstmuse[render]'") from error
    encoder = lameenc.Encoder()
    encoder.set_in_sample_rate(sample_rate)
    encoder.set_channels(1)
    encoder.set_quality(MP3_ALGORITHM_QUALITY)
    encoder.set_vbr(MP3_VBR_MODE)
    encoder.set_vbr_quality(MP3_VBR_QUALITY)
    frames = bytes(encoder.encode(pcm) + encoder.flush())
    return _xing_frame(frames) + frames


# MPEG audio Layer III: kb/s by bitrate index, for MPEG-1 and for MPEG-2/2.5.
_MP3_KBPS = {
    True: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    False: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
# Sample rates by the header's version bits (3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5).
_MP3_RATES = {3: (44_100, 48_000, 32_000), 2: (22_050, 24_000, 16_000), 0: (11_025, 12_000, 8_000)}
_XING_FLAGS = 0x1 | 0x2 | 0x4  # frame count, byte count and seek table present


def _mp3_frame_length(header: bytes) -> int:
    """Bytes in the Layer III frame that starts with the 4-byte ``header`` (0: not a frame)."""
    version, layer = (header[1] >> 3) & 3, (header[1] >> 1) & 3
    bitrate_index, rate_index = header[2] >> 4, (header[2] >> 2) & 3
    if header[0] != 0xFF or header[1] & 0xE0 != 0xE0 or layer != 1 or version == 1:
        return 0
    if bitrate_index in (0, 15) or rate_index == 3:
        return 0
    mpeg1 = version == 3
    bits_per_second = _MP3_KBPS[mpeg1][bitrate_index] * 1000
    slots = 144 if mpeg1 else 72  # bytes per (bit/s / Hz): 1152 or 576 samples a frame
    return slots * bits_per_second // _MP3_RATES[version][rate_index] + ((header[2] >> 1) & 1)


def _xing_frame(frames: bytes) -> bytes:
    """A silent frame holding the Xing VBR header (frame count, bytes, seek table) for ``frames``.

    The layout is LAME's: after the frame header and the (zeroed) side
    information come "Xing", the flags, the frame count, the file's length in
    bytes and 100 seek points, each the byte position of 1 % of the duration
    scaled to 0-255. Decoders read it as metadata and play no sound for it.
    """
    offsets = []
    position = 0
    while position + 4 <= len(frames):
        length = _mp3_frame_length(frames[position : position + 4])
        if length == 0:
            raise RenderError(f"LAME wrote no MP3 frame at byte {position}")
        offsets.append(position)
        position += length
    if not offsets:
        raise RenderError("LAME wrote no MP3 frames")
    first = frames[:4]
    version, mono = (first[1] >> 3) & 3, first[3] >> 6 == 3
    side_info = (17 if mono else 32) if version == 3 else (9 if mono else 17)
    needed = 4 + side_info + 4 * 4 + 100
    # The same header as the audio, no CRC, no padding, the lowest bitrate that fits.
    for bitrate_index in range(1, 15):
        header = bytes((first[0], first[1] | 1, (first[2] & 0x0C) | (bitrate_index << 4), first[3]))
        length = _mp3_frame_length(header)
        if length >= needed:
            break
    total = length + len(frames)
    seek_points = bytes(
        min(255, 256 * (length + offsets[len(offsets) * percent // 100]) // total)
        for percent in range(100)
    )
    tag = (
        b"Xing"
        + _XING_FLAGS.to_bytes(4, "big")
        + len(offsets).to_bytes(4, "big")
        + total.to_bytes(4, "big")
        + seek_points
    )
    return (header + bytes(side_info) + tag).ljust(length, b"\0")
