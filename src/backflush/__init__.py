"""backflush: a backflush costing and backflush inventory engine."""

__version__ = "0.1.0"
