"""Exit statuses, one table for every command."""

OK = 0  # success: nothing found, nothing to change, the lock holds
FINDINGS = 1  # findings at or above --fail-on, changes to make, a stale file, a failed proof
ERROR = 2  # a usage or input error: nothing was decided
INTERRUPTED = 130  # Ctrl-C: every write was whole or not begun
