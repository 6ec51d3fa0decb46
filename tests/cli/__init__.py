"""The commands as users run them: `python -m aligner` from this checkout."""
