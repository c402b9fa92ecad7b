"""Balance statements: activity over a period and open items as at a date, for one
(partnership, VCSE organisation, payer), the same for both sides, in JSON, CSV and PDF.

- `build` — pure builders over claim timelines;
- `render` — `render(statement, fmt) -> (bytes, content_type, filename)`;
- `production` — `produce_statement` on demand and `monthly_statements`, recorded in
  `nf_statements`.
"""

from __future__ import annotations

from .build import StatementDoesNotBalance, build_activity_statement, build_outstanding_statement
from .model import (
    ACTIVITY,
    MONTHLY,
    ON_DEMAND,
    OUTSTANDING,
    ActivityStatement,
    OutstandingStatement,
    Parties,
    Party,
    Recipient,
    Statement,
)
from .production import (
    UnknownStatementScope,
    first_working_day,
    monthly_statements,
    produce_statement,
)
from .render import FORMATS, render

__all__ = [
    "ACTIVITY",
    "FORMATS",
    "MONTHLY",
    "ON_DEMAND",
    "OUTSTANDING",
    "ActivityStatement",
    "OutstandingStatement",
    "Parties",
    "Party",
    "Recipient",
    "Statement",
    "StatementDoesNotBalance",
    "UnknownStatementScope",
    "build_activity_statement",
    "build_outstanding_statement",
    "first_working_day",
    "monthly_statements",
    "produce_statement",
    "render",
]
