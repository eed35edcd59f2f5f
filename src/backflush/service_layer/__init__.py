"""Use cases over the ports: set-up, imports, posting (one by one or summarised), reports."""
