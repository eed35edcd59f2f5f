"""The HTTP API (``backflush serve``): FastAPI over the same services as the CLI.

:func:`~.app.create_app` makes the application for a mapping of ledger names to ledgers;
the routes are in :mod:`.events`, :mod:`.reading` and :mod:`.master`, every error in one
shape in :mod:`.problems`, authentication and the request's body in :mod:`.deps`.
"""
