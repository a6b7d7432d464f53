"""Images, audio and files in a prompt. The text model cannot see them: each becomes a short
marker in the prompt (``[image]``), and the vendor bills it by its own rule, which needs what
is in the data: an image's size (read by Pillow, never decoded further), an audio clip's
length, a PDF's page count. Remote URLs are never fetched (their size is unknown, so a
vendor's rule takes its documented default for them).

:func:`inspect` reads base64 or data-URL content and raises :class:`BadMedia` (a
``ValueError`` the vendor turns into its own 400) for bad base64, data that is not what
its media type says, or a type the vendor does not take.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import re
import wave
from dataclasses import dataclass

IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
_DATA_URL = re.compile(r"data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?:;[\w-]+=[^;,]*)*(?P<b64>;base64)?,(?P<data>.*)", re.S)
_PAGE = re.compile(rb"/Type\s*/Page(?![s\w])")
MP3_BYTES_PER_SECOND = 16_000  # 128 kbit/s: an mp3's length estimated from its size


class BadMedia(ValueError):
    """Content that is not what it claims to be (the message says what is wrong)."""


@dataclass(frozen=True, slots=True)
class Media:
    """What a vendor's billing rule needs: the kind, the media type, and the size it has."""

    kind: str  # "image", "audio", "pdf", "text", "file"
    mime: str
    width: int = 0
    height: int = 0
    pages: int = 0
    seconds: float = 0.0
    nbytes: int = 0


def b64decode(data: str, *, urlsafe: bool = False) -> bytes:
    """Strict base64 (whitespace allowed), as the vendors decode it; ``urlsafe`` also takes the
    URL-safe alphabet and missing padding (as protobuf's JSON mapping does, which Google's APIs use)."""
    data = re.sub(r"\s+", "", data)
    if urlsafe:
        data = data.replace("-", "+").replace("_", "/")
        data += "=" * (-len(data) % 4)
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise BadMedia("The data is not valid base64.") from None


def data_url(url: str) -> tuple[str | None, bytes] | None:
    """A ``data:`` URL's media type and bytes; None for any other URL (not fetched)."""
    if not url.startswith("data:"):
        return None
    m = _DATA_URL.fullmatch(url)
    if m is None or not m.group("b64"):
        raise BadMedia("A data URL must be base64-encoded: data:<media type>;base64,<data>.")
    return m.group("mime"), b64decode(m.group("data"))


def sniff(data: bytes) -> str | None:
    """The media type the bytes themselves say (images, PDF, WAV, MP3), or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "audio/wav"
    if data.startswith(b"ID3") or data[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "audio/mpeg"
    return None


def image(data: bytes, declared: str | None = None, allowed: tuple[str, ...] = IMAGE_TYPES) -> Media:
    """An image's type and size; a declared type must match the data (as Anthropic checks)."""
    actual = sniff(data)
    if actual not in allowed:
        names = ", ".join(t.split("/")[1] for t in allowed)
        raise BadMedia(f"The data is not a supported image (supported formats: {names}).")
    if declared is not None and declared != actual:
        raise BadMedia(f"The image was specified using the {declared} media type, but the image appears to be "
                       f"a {actual} image.")
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as im:
            width, height = im.size
    except (UnidentifiedImageError, OSError, ValueError) as e:
        raise BadMedia(f"The image could not be read: {e}.") from None
    return Media("image", actual, width, height, nbytes=len(data))


def pdf(data: bytes) -> Media:
    if sniff(data) != "application/pdf":
        raise BadMedia("The data is not a PDF (it does not start with %PDF-).")
    return Media("pdf", "application/pdf", pages=max(1, len(_PAGE.findall(data))), nbytes=len(data))


def audio(data: bytes, fmt: str | None = None) -> Media:
    """A WAV's length from its header; an MP3's from its size at 128 kbit/s."""
    actual = sniff(data)
    if actual == "audio/wav" and fmt in (None, "wav"):
        try:
            with wave.open(io.BytesIO(data)) as w:
                seconds = w.getnframes() / float(w.getframerate() or 1)
        except (wave.Error, EOFError) as e:
            raise BadMedia(f"The WAV audio could not be read: {e}.") from None
        return Media("audio", actual, seconds=seconds, nbytes=len(data))
    if actual == "audio/mpeg" and fmt in (None, "mp3"):
        return Media("audio", actual, seconds=len(data) / MP3_BYTES_PER_SECOND, nbytes=len(data))
    raise BadMedia(f"The data is not {fmt or 'wav or mp3'} audio.")


def inspect(data: bytes, declared: str | None = None) -> Media:
    """Whatever the bytes are: an image, a PDF, audio, text, or an opaque file."""
    kind = sniff(data) or declared or "application/octet-stream"
    if kind.startswith("image/"):
        return image(data, declared if declared and declared.startswith("image/") else None)
    if kind == "application/pdf":
        return pdf(data)
    if kind.startswith("audio/"):
        return audio(data)
    if kind.startswith("text/"):
        return Media("text", kind, nbytes=len(data))
    return Media("file", kind, nbytes=len(data))


# -- what each vendor bills ------------------------------------------------------------------
def openai_image_tokens(width: int, height: int, detail: str = "auto") -> int:
    """OpenAI's tile rule (GPT-4o): ``low`` is 85; else fit in 2048x2048, shortest side to 768,
    then 170 per 512-pixel tile plus 85."""
    if detail == "low":
        return 85
    w, h = float(width), float(height)
    if max(w, h) > 2048:
        s = 2048 / max(w, h)
        w, h = w * s, h * s
    if min(w, h) > 768:
        s = 768 / min(w, h)
        w, h = w * s, h * s
    return 85 + 170 * math.ceil(w / 512) * math.ceil(h / 512)


def anthropic_image_tokens(width: int, height: int) -> int:
    """Anthropic's rule: width x height / 750, after scaling to a long edge of at most 1568
    pixels and at most 1.15 megapixels."""
    w, h = float(width), float(height)
    if max(w, h) > 1568:
        s = 1568 / max(w, h)
        w, h = w * s, h * s
    if w * h > 1_150_000:
        s = math.sqrt(1_150_000 / (w * h))
        w, h = w * s, h * s
    return max(1, math.ceil(w * h / 750))


def gemini_image_tokens(width: int, height: int) -> int:
    """Gemini's rule: 258 when both sides are at most 384 pixels, else 258 per 768x768 tile."""
    if width <= 384 and height <= 384:
        return 258
    return 258 * math.ceil(width / 768) * math.ceil(height / 768)


# A page of a PDF, as the vendors see it: a letter-size page image (plus its text, not counted here).
PAGE_WIDTH, PAGE_HEIGHT = 1224, 1584  # 8.5 x 11 inches at 144 dpi
