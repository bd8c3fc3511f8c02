"""PostgreSQL migrations, applied in order by bot.store.postgres.database."""
