"""What each kind of job costs in credits, unless the settings say otherwise."""

from __future__ import annotations

#: Default credit costs by job kind, overridable by settings (Apiframe v2 prices).
DEFAULT_COSTS: dict[str, int] = {
    "imagine": 16,
    "upsample": 4,
    "variation": 16,
    "inpaint": 16,
    "outpaint": 16,
    "pan": 16,
    "reroll": 16,
    #: One price for 2x and 4x, subtle and creative: a CPU super-resolution pass.
    "upscale": 8,
}
