"""The ledger in SQL: SQLite (a file, the default) or PostgreSQL.

What the composition root and the CLI use::

    ledger = SqlLedger.open(url)              # any command but init: must be a ledger
    ledger = SqlLedger.create(url, force=F)   # init: create or upgrade the schema
    uow = ledger.unit_of_work(read_only=F)    # one transaction (a UnitOfWork)

and, underneath, :func:`database_url`, :func:`make_engine`, :func:`init_schema`,
:func:`require_ledger`. Modules, by responsibility: :mod:`.engine` (URLs, engines, schema
checks, error translation), :mod:`.unit_of_work`, :mod:`.master_store`, :mod:`.event_log`,
:mod:`.journal`, :mod:`.stock`, :mod:`.bulk` (the only one that talks to the driver
directly), :mod:`.codec` (the one decimal codec), :mod:`.schema` and the Alembic migrations.
"""

from backflush.adapters.sql.engine import (
    database_url,
    downgrade_schema,
    head_revision,
    init_schema,
    make_engine,
    require_ledger,
)
from backflush.adapters.sql.unit_of_work import SqlLedger, SqlUnitOfWork

__all__ = [
    "SqlLedger",
    "SqlUnitOfWork",
    "database_url",
    "downgrade_schema",
    "head_revision",
    "init_schema",
    "make_engine",
    "require_ledger",
]
