"""Path and query parameters of the dashboard's pages, bounded so that a wrong value is a
400 page rather than a database error (SQLite and PostgreSQL integers stop at 2**63 - 1)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

MAX_ROW_ID = 2**63 - 1
MAX_PAGE = 100_000  # times 20 rows a page: the offset stays far below MAX_ROW_ID

RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
PageNumber = Annotated[int, Query(ge=1, le=MAX_PAGE)]
