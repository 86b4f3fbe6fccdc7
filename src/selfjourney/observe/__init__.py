"""What operators watch: readiness probes, Prometheus metrics and JSON log lines.

Framework-free (no FastAPI), so the API process and a worker process both use it; the API's
routes for it are in ``api/ops.py``.
"""
