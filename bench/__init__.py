"""Benchmarks: each module prints its figures; see README."""
