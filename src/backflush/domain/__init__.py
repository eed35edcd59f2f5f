"""The pure core: items, BOMs, cost roll-up, posting rules, variances. No I/O, no clock."""
