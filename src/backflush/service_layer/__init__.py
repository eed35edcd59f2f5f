"""Use cases: load master data, post events, close periods, report. Owns the transaction."""
