"""Dialects: one package per wire format, each translating its requests into the service's
commands and jobs back into its own JSON. ``registry`` lists them all."""
