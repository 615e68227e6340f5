"""Benchmarks: each measures the raw broker baseline in the same run and prints one JSON line."""
