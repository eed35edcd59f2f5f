"""Adapters: ledger storage (memory; SQL to come) and file formats (scenario YAML/JSON)."""
