"""The repository itself: README commands, packaging, hygiene, the security notes."""
