"""Entry points: they parse input, call one service, and map errors to exit codes."""
