"""The pure core: items, BOMs, the roll-up, the posting rules, valuation, invariants.

It imports the standard library only, keeps no state between calls, and does no I/O.
"""
