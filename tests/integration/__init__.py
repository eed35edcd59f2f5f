"""Integration tests: the adapters against real backends."""
