"""The service: what an authenticated caller can do, whatever dialect it speaks.

It is the only thing dialects call; it sits above the store and the queue.
"""

from __future__ import annotations

from selfjourney.service.service import Service

__all__ = ["Service"]
