"""Multipart bodies of ``/edits`` and ``/variations``: text fields, the pictures, the mask.

The SDK sends one picture as the part ``image``, several as repeated ``image[]`` parts (Open
WebUI sends either, LibreChat always ``image[]``): all ``image[]`` parts in order are taken,
else the ``image`` parts. Files are spooled to disk by Starlette past 1 MB; only the first
picture and the mask are read into memory, the others are hashed to be recorded.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile

from selfjourney.dialects.openai_images.errors import OpenAIError

#: Largest file part, in bytes (OpenAI's limit for GPT image inputs).
MAX_FILE = 50 * 1024 * 1024
#: At most this many pictures on /edits (OpenAI's), plus the mask.
MAX_IMAGES = 16
#: Text parts: how many, and how long each (a 32000-character prompt fits).
MAX_FIELDS = 40
MAX_FIELD_BYTES = 256 * 1024
_CHUNK = 1024 * 1024
Fields = TypeVar("Fields", bound=BaseModel)


@dataclass(frozen=True)
class Upload:
    """One file part: what it was called and, for the files used, its bytes."""

    field: str
    filename: str | None
    content_type: str | None
    size: int
    sha256: str
    data: bytes = b""

    def record(self) -> dict[str, Any]:
        """How the job's ``input`` records it: never the bytes."""
        return {
            "field": self.field,
            "filename": self.filename,
            "content_type": self.content_type,
            "bytes": self.size,
            "sha256": self.sha256,
        }


@dataclass(frozen=True)
class Form:
    """A parsed multipart body."""

    fields: dict[str, str]
    images: list[Upload]
    mask: Upload | None = None
    files: dict[str, Any] = field(default_factory=dict)

    def input(self) -> dict[str, Any]:
        """The request as the job records it: text fields as sent, files by their digest."""
        return {**self.fields, **self.files}


async def read_form(request: Request, *, max_images: int) -> Form:
    """The body of a multipart route; 400 for another content type, too many pictures, or a
    file over 50 MB; ``image`` missing is the caller's (translate) to refuse."""
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise OpenAIError(
            400,
            f"Invalid Content-Type header ({content_type or 'none'}): this route takes "
            "multipart/form-data, with the picture as a file part named 'image'.",
            code="invalid_content_type",
        )
    form = await request.form(
        max_files=MAX_IMAGES + 4, max_fields=MAX_FIELDS, max_part_size=MAX_FIELD_BYTES
    )
    try:
        return await _parse(list(form.multi_items()), max_images)
    finally:
        await form.close()


async def _parse(items: list[tuple[str, str | UploadFile]], max_images: int) -> Form:
    fields: dict[str, str] = {}
    parts: dict[str, list[UploadFile]] = {}
    for name, value in items:
        if isinstance(value, str):
            fields[name] = value
        else:
            parts.setdefault(name, []).append(value)
    field_name = "image[]" if parts.get("image[]") else "image"
    pictures = parts.get(field_name, [])
    if len(pictures) > max_images:
        raise OpenAIError(
            400,
            f"Too many images: {len(pictures)}; this route takes at most {max_images}.",
            param="image",
            code="invalid_value",
        )
    images = [await _upload(field_name, part, keep=n == 0) for n, part in enumerate(pictures)]
    masks = parts.get("mask", [])
    mask = await _upload("mask", masks[0], keep=True) if masks else None
    files: dict[str, Any] = {}
    if images:
        records = [image.record() for image in images]
        files[field_name] = records if field_name == "image[]" else records[0]
    if mask is not None:
        files["mask"] = mask.record()
    return Form(fields, images, mask, files)


async def _upload(name: str, part: UploadFile, *, keep: bool) -> Upload:
    """Reads (or, when not ``keep``, only hashes) one file part, refusing it past 50 MB."""
    param = "mask" if name == "mask" else "image"
    if part.size is not None and part.size > MAX_FILE:
        raise _too_big(param, part.size)
    digest, size, kept = hashlib.sha256(), 0, bytearray()
    while chunk := await part.read(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
        if size > MAX_FILE:
            raise _too_big(param, size)
        if keep:
            kept += chunk
    return Upload(name, part.filename, part.content_type, size, digest.hexdigest(), bytes(kept))


def _too_big(param: str, size: int) -> OpenAIError:
    return OpenAIError(
        400,
        f"Invalid '{param}': the file is {size} bytes; the limit is {MAX_FILE // 2**20} MB.",
        param=param,
        code="invalid_image_file",
    )


def parse_fields(model: type[Fields], form: Form) -> Fields:
    """The form's text fields read by ``model``; a refusal is the same 400 a JSON body gets."""
    try:
        return model.model_validate(form.fields)
    except ValidationError as exc:
        problems = [{**item, "loc": ("body", *item["loc"])} for item in exc.errors()]
        raise RequestValidationError(problems) from None
