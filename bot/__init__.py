"""newsbot: a self-hosted news alert bot for Slack, Discord and the console."""

__version__ = "0.1.0"
