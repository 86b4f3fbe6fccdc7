"""Engines: pure functions from a spec (and source pixels) to pictures.

``base`` holds the protocol, its value types and errors; ``procedural`` is the offline default,
``diffusers`` renders with a real model, ``upscale`` enlarges pictures (Real-ESRGAN, Lanczos).
An engine never touches the store, the queue, storage or HTTP.
"""
