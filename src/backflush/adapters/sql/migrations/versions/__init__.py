"""One module per schema revision; ``0001`` is the baseline."""
