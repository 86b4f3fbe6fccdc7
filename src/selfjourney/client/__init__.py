"""The selfjourney client: a server's HTTP API from the command line and for AI agents (MCP).

It talks to a server only over HTTP (``remote.Client``), never through the server's own
modules, so it works against any selfjourney server; import-linter keeps it so.
"""
