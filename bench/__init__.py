"""Benchmarks: `make bench` runs them and writes BENCHMARKS.md. Measured, never asserted in tests."""
