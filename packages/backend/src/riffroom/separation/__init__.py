"""Turning a song into stems: engines, the chunked runner, the content cache and the public API."""
