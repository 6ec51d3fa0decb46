"""The floor every layer stands on: errors and exit statuses, TOML, safe reads, atomic writes."""
