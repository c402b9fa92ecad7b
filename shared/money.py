"""Money is integer pence: never floats, rounded half up only where a rate meets an hour."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

Pence = int


def round_half_up(value: Decimal) -> Pence:
    """Round an amount in (fractional) pence to whole pence, halves away from zero."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def format_pence(pence: Pence) -> str:
    """Show pence as pounds the way a finance officer writes them: ``£1,234.56``."""
    sign = "-" if pence < 0 else ""
    pounds, rest = divmod(abs(pence), 100)
    return f"{sign}£{pounds:,}.{rest:02d}"
