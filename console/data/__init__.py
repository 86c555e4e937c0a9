"""The console's data access, one module per table or source: calls, tickets, operators, login sessions,
the audit log, the intent catalog and the prompts as operators see them (blocking: call from a thread)."""
