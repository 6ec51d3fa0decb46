"""The worked examples in examples/, end to end."""
