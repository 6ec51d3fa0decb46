"""Hostile conditions: fuzzing, bad input, interrupts, concurrency, network faults, no shell."""
