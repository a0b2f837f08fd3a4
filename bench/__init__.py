"""Benchmarks: the posting engine alone (bench.engine) and the whole system over HTTP (python -m bench)."""
