"""Discord adapter (discord.py): the only importer of discord."""
