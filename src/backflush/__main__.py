"""``python -m backflush``: the same command as the ``backflush`` console script."""

from backflush.entrypoints.cli import main

if __name__ == "__main__":
    main()
