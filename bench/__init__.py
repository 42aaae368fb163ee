"""Benchmarks (`python -m bench` or `make bench`): they print figures; tests hold no timing targets."""
