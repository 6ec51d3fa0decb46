"""Decisions: the resolver, the lock, check's rules and findings, fix's plan."""
