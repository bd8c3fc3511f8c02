"""The outbox's far side: pending alerts to each platform's notifier, recorded as sent."""
