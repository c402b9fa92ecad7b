"""The ledger's domain: organisations, agreements, claims, payments and balances.

Pure: the standard library, ``shared`` and ``holidays`` only. Creation commands are module
functions (``submit_claim``, ``record_payment`` …); commands on an existing aggregate are its
methods (``Claim.approve``, ``Payment.reverse`` …). Every command returns the one new event it
decides and changes nothing: state is rebuilt from events with ``replay``.
"""
