"""Seeing inside a running newsbot: Prometheus metrics, liveness and readiness.

metrics.py holds the counters and histograms the watcher and delivery record through a
few plain functions (they never touch prometheus_client themselves); gauges.py reads the
store's and the index's state when /metrics is scraped; health.py judges readiness
(the database, each platform, the loops' heartbeats); http.py serves /metrics, /livez and
/readyz on NEWSBOT_HTTP_PORT. bot.core never imports any of it.
"""
