"""Proving a lock in real images: builds, version probes, a real resolver, bake files."""
