"""Loaded by every Python process started with tests/support/hooks on PYTHONPATH (the `aligner` console script
included), to put faults into a real process from outside it, without a test hook in aligner itself.

ALIGNER_TEST_NO_SOCKETS=FILE   creating an internet socket or resolving a name appends a line to FILE and fails
ALIGNER_TEST_STALL=CALL:FILE   the first call of os.fsync or os.replace (CALL) creates FILE, then holds the
                               call until FILE.release exists (at most 120 s): the moment for a test to send
                               SIGINT, and only then to create FILE.release, so that the signal surely comes
                               while the call is held

Always: `aligner.rules` is this checkout's rules/ folder (tests/support/hooks/checkout_rules.py), so that
`python3 -m aligner` with the checkout on PYTHONPATH runs this checkout's code with this checkout's rules.
"""

import os
import socket
import time

import checkout_rules

checkout_rules.install()

_log = os.environ.get("ALIGNER_TEST_NO_SOCKETS")
if _log:
    def _refuse(what):
        import traceback

        with open(_log, "a") as fh:
            fh.write(f"{what}\n" + "".join(traceback.format_stack(limit=8)))
        raise OSError(f"network forbidden in this test ({what})")

    _init = socket.socket.__init__

    def _socket_init(self, family=-1, type=-1, proto=-1, fileno=None):
        if fileno is None and family in (-1, socket.AF_INET, socket.AF_INET6):
            _refuse(f"socket family {family}")
        _init(self, family, type, proto, fileno)

    socket.socket.__init__ = _socket_init
    socket.getaddrinfo = lambda host, *a, **k: _refuse(f"getaddrinfo {host}")

_stall = os.environ.get("ALIGNER_TEST_STALL")
if _stall:
    _call, _, _marker = _stall.partition(":")
    _real = getattr(os, _call)

    def _stalled(*args, **kwargs):
        if not os.path.exists(_marker):
            open(_marker, "w").close()
            stop = time.monotonic() + 120
            while not os.path.exists(_marker + ".release") and time.monotonic() < stop:
                time.sleep(0.02)  # a SIGINT that is not held raises KeyboardInterrupt here
        return _real(*args, **kwargs)

    setattr(os, _call, _stalled)
