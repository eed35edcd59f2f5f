"""Adapters: storage (memory, SQL) and files (scenarios, CSV, JSON Lines, XLSX)."""
