"""The chaos campaign: `.venv/bin/python -m bench.chaos [--quick]` from the repository root."""
