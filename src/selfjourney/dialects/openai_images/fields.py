"""Request fields of the OpenAI Images API, each refusing bad values in OpenAI's words.

Every refusal is a ``PydanticCustomError`` whose type is OpenAI's error ``code``
(``invalid_value``, ``integer_above_max_value``...) and whose message names the field, so the
error envelope (``errors``) needs no table of pydantic's own error types. The same fields read
JSON bodies (numbers, booleans) and multipart forms (every value a string): ``"2"`` is 2,
``"true"`` is true; a JSON boolean is never a number; ``null`` or ``""`` is an absent field.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from selfjourney.domain.errors import InvalidInput
from selfjourney.domain.sizes import parse_aspect_ratio

#: Longest prompt, in characters (GPT image models' limit, for every model name).
MAX_PROMPT = 32_000
#: Longest ``model``, ``user`` and ``safety_identifier``.
MAX_NAME = 256
#: Longest ``negative_prompt``.
MAX_NEGATIVE = 2_000
#: Sides a ``WxH`` size may have, in pixels.
MIN_SIDE, MAX_SIDE = 64, 4096
#: The sizes OpenAI lists for its models, all accepted with every model name.
OPENAI_SIZES = (
    "1024x1024",
    "1536x1024",
    "1024x1536",
    "256x256",
    "512x512",
    "1792x1024",
    "1024x1792",
)
_SIZE = re.compile(r"^(\d{1,5})[xX](\d{1,5})$")
_INTEGER = re.compile(r"^[+-]?\d{1,20}$")


def refuse(code: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(code, message)


def _absent(value: Any) -> bool:
    return value is None or value == ""


def _listed(values: tuple[str, ...]) -> str:
    quoted = [f"'{v}'" for v in values]
    return ", ".join(quoted[:-1]) + f" and {quoted[-1]}" if len(quoted) > 1 else quoted[0]


def _shown(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _integer(field: str, value: Any) -> int:
    """A whole number from a JSON number or a numeric string; never a boolean."""
    if isinstance(value, bool):
        raise refuse(
            "invalid_type", f"Invalid type for '{field}': expected an integer, but got a boolean."
        )
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER.match(value.strip()):
        return int(value.strip())
    raise refuse(
        "invalid_type",
        f"Invalid type for '{field}': expected an integer, but got {_shown(value)!r} instead.",
    )


def whole(field: str, low: int, high: int, *, range_codes: bool = False) -> Callable[[Any], Any]:
    """An integer from ``low`` to ``high``. ``range_codes``: OpenAI's
    ``integer_below_min_value`` / ``integer_above_max_value`` (``n``), else ``invalid_value``."""

    def check(value: Any) -> int | None:
        if _absent(value):
            return None
        try:
            number = _integer(field, value)
        except PydanticCustomError:
            if range_codes:
                raise
            raise refuse(
                "invalid_value",
                f"Invalid value for '{field}': expected an integer from {low} to {high}, "
                f"but got {_shown(value)!r}.",
            ) from None
        if number < low:
            code = "integer_below_min_value" if range_codes else "invalid_value"
            raise refuse(
                code,
                f"Invalid '{field}': integer below minimum value. Expected a value >= {low}, "
                f"but got {number} instead.",
            )
        if number > high:
            code = "integer_above_max_value" if range_codes else "invalid_value"
            raise refuse(
                code,
                f"Invalid '{field}': integer above maximum value. Expected a value <= {high}, "
                f"but got {number} instead.",
            )
        return number

    return check


def choice(field: str, allowed: tuple[str, ...]) -> Callable[[Any], Any]:
    """One of ``allowed``, exactly as spelled."""

    def check(value: Any) -> str | None:
        if _absent(value):
            return None
        if not isinstance(value, str) or value not in allowed:
            raise refuse(
                "invalid_value",
                f"Invalid value for '{field}': {_shown(value)!r}. Supported values are: "
                f"{_listed(allowed)}.",
            )
        return value

    return check


def text(field: str, longest: int) -> Callable[[Any], Any]:
    """A string of at most ``longest`` characters."""

    def check(value: Any) -> str | None:
        if _absent(value):
            return None
        if not isinstance(value, str):
            raise refuse(
                "invalid_type", f"Invalid type for '{field}': expected a string, but got a value."
            )
        if len(value) > longest:
            raise refuse(
                "string_above_max_length",
                f"Invalid '{field}': string too long. Expected a string with maximum length "
                f"{longest}, but got a string with length {len(value)} instead.",
            )
        return value

    return check


def flag(field: str) -> Callable[[Any], Any]:
    """``true``/``false``: JSON booleans, or the strings a form sends."""

    def check(value: Any) -> bool | None:
        if _absent(value):
            return None
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise refuse(
            "invalid_type",
            f"Invalid type for '{field}': expected a boolean, but got {_shown(value)!r} instead.",
        )

    return check


def prompt(value: Any) -> str:
    """Required; 1-32000 characters once trimmed; kept as sent (flags are the core's)."""
    if value is None:
        raise refuse("missing_required_parameter", "Missing required parameter: 'prompt'.")
    if not isinstance(value, str):
        raise refuse("invalid_type", "Invalid type for 'prompt': expected a string.")
    if not value.strip():
        raise refuse("invalid_value", "Invalid 'prompt': the prompt must not be empty.")
    if len(value.strip()) > MAX_PROMPT:
        raise refuse(
            "string_above_max_length",
            f"Invalid 'prompt': string too long. Expected a string with maximum length "
            f"{MAX_PROMPT}, but got a string with length {len(value.strip())} instead.",
        )
    return value


SIZE_FORMS = (
    f"'auto', {', '.join(repr(s) for s in OPENAI_SIZES)}, or WIDTHxHEIGHT with sides "
    f"{MIN_SIDE}-{MAX_SIDE} and a ratio from 1:3 to 3:1"
)


def parse_size(value: str) -> tuple[int, int] | None:
    """``auto`` is None; ``WxH`` (or ``WXH``) within the sides and ratios allowed; else
    ValueError."""
    if value == "auto":
        return None
    match = _SIZE.match(value.strip())
    if match is None:
        raise ValueError(value)
    width, height = int(match.group(1)), int(match.group(2))
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        raise ValueError(value)
    try:
        parse_aspect_ratio(f"{width}:{height}")
    except InvalidInput:
        raise ValueError(value) from None
    return width, height


def size(value: Any) -> str | None:
    """``auto`` or ``WxH`` (see ``parse_size``), kept as sent."""
    if _absent(value):
        return None
    if isinstance(value, str):
        try:
            parse_size(value)
        except ValueError:
            pass
        else:
            return value
    raise refuse(
        "invalid_value", f"Invalid value: {_shown(value)!r}. Supported values are: {SIZE_FORMS}."
    )


def _integer_schema(low: int, high: int, **extra: Any) -> WithJsonSchema:
    return WithJsonSchema({"type": "integer", "minimum": low, "maximum": high, **extra})


def _enum_schema(values: tuple[str, ...]) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "enum": list(values)})


RESPONSE_FORMATS = ("url", "b64_json")
OUTPUT_FORMATS = ("png", "jpeg", "jpg", "webp")
QUALITIES = ("auto", "low", "medium", "high", "xhigh", "max", "standard", "hd")
STYLES = ("vivid", "natural")
BACKGROUNDS = ("transparent", "opaque", "auto")
MODERATIONS = ("low", "auto")
FIDELITIES = ("high", "low")
STRENGTHS = ("subtle", "strong")
#: ``seed``: -1 means "random" (A1111's convention), else the core's --seed range.
SEED_RANGE = (-1, 4_294_967_295)

Prompt = Annotated[
    str, BeforeValidator(prompt), WithJsonSchema({"type": "string", "maxLength": MAX_PROMPT})
]
Name = Annotated[
    str | None,
    BeforeValidator(text("model", MAX_NAME)),
    WithJsonSchema({"type": "string", "maxLength": MAX_NAME}),
]
User = Annotated[
    str | None,
    BeforeValidator(text("user", MAX_NAME)),
    WithJsonSchema({"type": "string", "maxLength": MAX_NAME}),
]
SafetyIdentifier = Annotated[
    str | None,
    BeforeValidator(text("safety_identifier", MAX_NAME)),
    WithJsonSchema({"type": "string", "maxLength": MAX_NAME}),
]
NegativePrompt = Annotated[
    str | None,
    BeforeValidator(text("negative_prompt", MAX_NEGATIVE)),
    WithJsonSchema({"type": "string", "maxLength": MAX_NEGATIVE}),
]
Count = Annotated[
    int | None, BeforeValidator(whole("n", 1, 4, range_codes=True)), _integer_schema(1, 4)
]
Size = Annotated[
    str | None,
    BeforeValidator(size),
    WithJsonSchema({"type": "string", "examples": ["auto", *OPENAI_SIZES]}),
]
ResponseFormat = Annotated[
    str | None,
    BeforeValidator(choice("response_format", RESPONSE_FORMATS)),
    _enum_schema(RESPONSE_FORMATS),
]
OutputFormat = Annotated[
    str | None,
    BeforeValidator(choice("output_format", OUTPUT_FORMATS)),
    _enum_schema(OUTPUT_FORMATS),
]
Compression = Annotated[
    int | None, BeforeValidator(whole("output_compression", 0, 100)), _integer_schema(0, 100)
]
Quality = Annotated[
    str | None, BeforeValidator(choice("quality", QUALITIES)), _enum_schema(QUALITIES)
]
Style = Annotated[str | None, BeforeValidator(choice("style", STYLES)), _enum_schema(STYLES)]
Background = Annotated[
    str | None, BeforeValidator(choice("background", BACKGROUNDS)), _enum_schema(BACKGROUNDS)
]
Moderation = Annotated[
    str | None, BeforeValidator(choice("moderation", MODERATIONS)), _enum_schema(MODERATIONS)
]
Fidelity = Annotated[
    str | None, BeforeValidator(choice("input_fidelity", FIDELITIES)), _enum_schema(FIDELITIES)
]
Strength = Annotated[
    str | None, BeforeValidator(choice("strength", STRENGTHS)), _enum_schema(STRENGTHS)
]
Stream = Annotated[
    bool | None, BeforeValidator(flag("stream")), WithJsonSchema({"type": "boolean"})
]
PartialImages = Annotated[
    int | None, BeforeValidator(whole("partial_images", 0, 3)), _integer_schema(0, 3)
]
Seed = Annotated[
    int | None, BeforeValidator(whole("seed", *SEED_RANGE)), _integer_schema(*SEED_RANGE)
]
