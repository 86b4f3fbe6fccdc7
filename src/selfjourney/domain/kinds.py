"""The kinds of job: a new grid, and each button that follows one."""

from __future__ import annotations

import enum


class JobKind(enum.StrEnum):
    IMAGINE = "imagine"  #: a new 2x2 grid from a prompt
    UPSAMPLE = "upsample"  #: U1-U4: one grid image, standalone
    VARIATION = "variation"  #: V1-V4: a new grid close to one grid image
    INPAINT = "inpaint"  #: vary region of an upsample
    OUTPAINT = "outpaint"  #: zoom out of an upsample
    PAN = "pan"  #: extend an upsample in one direction
    REROLL = "reroll"  #: the parent grid's job again, with a new seed
    UPSCALE = "upscale"  #: an upsample (or a caller's image) made 2x or 4x larger

    def makes_grid(self) -> bool:
        return self not in (JobKind.UPSAMPLE, JobKind.UPSCALE)


#: The follow-up actions (everything but imagine).
ACTIONS = frozenset(JobKind) - {JobKind.IMAGINE}
