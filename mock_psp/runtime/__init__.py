"""What the provider runs on: SQLite (store, schema), time (clock), timed jobs (scheduler)
and the HTTP server. Nothing here knows payments or HTTP handlers."""
