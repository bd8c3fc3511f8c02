"""Topic subscriptions (`topic:Russia`): see bot/core/topics/pack.py."""
