"""Pure domain: models, matcher, summaries, neutral alerts and command use-cases.

Nothing here imports a chat SDK or an I/O library; the import-linter contract in
pyproject.toml keeps it so.
"""
