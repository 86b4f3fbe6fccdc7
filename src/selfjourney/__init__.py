"""selfjourney: a self-hosted, Midjourney-compatible image generation API."""

__version__ = "0.1.0"
