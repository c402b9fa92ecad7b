"""The pages, grouped by who uses them: account, claims (VCSE), decisions (approvers),
payments (finance), balances (everyone in a partnership)."""
