"""The store contract suite: every backend keeps the promises of bot.core.ports.stores.

Written only against the protocols (no SQL, no backend module), so a test that passes on
SQLite and fails on PostgreSQL is a difference in behaviour, not in the test.
"""
