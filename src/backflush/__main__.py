"""``python -m backflush`` is the ``backflush`` command."""

from backflush.entrypoints.cli import main

main()
