"""Benchmarks: scripts that print figures (never assertions on time in the test suite)."""
