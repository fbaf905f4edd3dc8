"""Benchmarks: run by hand, print figures. Not part of the test suite."""
