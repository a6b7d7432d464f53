"""Images, audio and files in OpenAI prompts (chat's ``image_url`` / ``input_audio`` / ``file``
parts, Responses' ``input_image`` / ``input_file``): the marker the model reads in their
place, and the input tokens OpenAI bills for them (:mod:`mockvendor.media`)."""

from __future__ import annotations

import math

from ... import media
from ...errors import InvalidRequest
from . import wire

UNKNOWN_SIZE = (1024, 1024)  # a remote image is never fetched: billed as 1024x1024 (765 tokens at auto)
AUDIO_TOKENS_PER_SECOND = 10  # one audio token per 100 ms
TEXT_BYTES_PER_TOKEN = 4


def _bad_image(why: str, param: str) -> InvalidRequest:
    return InvalidRequest("You uploaded an unsupported image. Please make sure your image is below 20 MB in size and "
                          f"is of one the following formats: ['png', 'jpeg', 'gif', 'webp']. ({why})",
                          param=param, kind="invalid_image_format")


def image(url: str | None, detail: str | None, param: str) -> tuple[str, int]:
    """An image by URL or data URL: ``[image]`` and its tile-rule tokens."""
    detail = detail or "auto"
    if not url:
        raise InvalidRequest("An image needs an 'image_url' (mockvendor has no Files API for 'file_id').",
                             param=param)
    try:
        inline = media.data_url(url)
        if inline is None:
            width, height = UNKNOWN_SIZE
        else:
            info = media.image(inline[1], inline[0] if inline[0] and inline[0].startswith("image/") else None)
            width, height = info.width, info.height
    except media.BadMedia as e:
        raise _bad_image(str(e), param) from None
    return "[image]", media.openai_image_tokens(width, height, "low" if detail == "low" else "high")


def audio(data: str, fmt: str, param: str) -> tuple[str, int]:
    try:
        info = media.audio(media.b64decode(data), fmt)
    except media.BadMedia as e:
        raise InvalidRequest(f"Invalid audio: {e}", param=param, kind="invalid_value") from None
    return "[audio]", max(1, math.ceil(info.seconds * AUDIO_TOKENS_PER_SECOND))


def file(data: str | None, file_id: str | None, filename: str | None, param: str) -> tuple[str, int]:
    """A file sent inline (``file_data``: a data URL or plain base64); a PDF is billed per page
    as a page image at high detail, a text file by its length."""
    if not data:
        shown = file_id or "(none)"
        raise InvalidRequest(f"No such File object: {shown}. mockvendor has no Files API: send the file inline in "
                             "'file_data'.", param=param, kind="invalid_value")
    try:
        inline = media.data_url(data)
        mime, raw = inline if inline is not None else (None, media.b64decode(data))
        info = media.inspect(raw, mime)
    except media.BadMedia as e:
        raise InvalidRequest(f"Invalid file data: {e}", param=param, kind="invalid_value") from None
    name = f": {filename}" if filename else ""
    if info.kind == "pdf":
        return f"[file{name}]", info.pages * media.openai_image_tokens(media.PAGE_WIDTH, media.PAGE_HEIGHT)
    if info.kind == "image":
        return f"[image{name}]", media.openai_image_tokens(info.width, info.height)
    return f"[file{name}]", max(1, math.ceil(info.nbytes / TEXT_BYTES_PER_TOKEN))


def remote_file(url: str, filename: str | None) -> tuple[str, int]:
    """A file by URL: never fetched, billed as one page."""
    return f"[file: {filename or url}]", media.openai_image_tokens(media.PAGE_WIDTH, media.PAGE_HEIGHT)


def chat_part(part: wire.Part, role: str, param: str) -> tuple[str, int]:
    """One chat content part: the text the model reads, and the tokens it adds."""
    if isinstance(part, wire.TextPart):
        return part.text, 0
    if isinstance(part, wire.RefusalPart):
        if role != "assistant":
            raise InvalidRequest(f"Invalid '{param}': 'refusal' content parts are only allowed in messages with "
                                 "role 'assistant'.", param=param)
        return part.refusal, 0
    if role != "user":
        kind = type(part).__struct_config__.tag
        raise InvalidRequest(f"Invalid '{param}': '{kind}' content parts are only allowed in messages with role "
                             "'user'.", param=param)
    if isinstance(part, wire.ImagePart):
        return image(part.image_url.url, part.image_url.detail, param + ".image_url")
    if isinstance(part, wire.AudioPart):
        return audio(part.input_audio.data, part.input_audio.format, param + ".input_audio")
    return file(part.file.file_data, part.file.file_id, part.file.filename, param + ".file")
