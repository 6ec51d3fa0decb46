"""A corpus of hostile and broken inputs, each a change to a copy of the fixture repo tests/fixtures/repos/dynamo.

Each case says which input it breaks (a Dockerfile, the upstream pyproject,
the lock or the config), which file the error must name, the line where there
is one, and a piece of the message. Big inputs are generated here, not stored.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

VLLM = "container/Dockerfile.dynamo-vllm"  # line 3: ARG VLLM_REF="v0.11.0"
UPSTREAM = "upstream/pyproject.toml"
LOCK = "lock/aligner.lock"
CONFIG = "aligner.toml"
MB = 1024 * 1024


@dataclass(frozen=True)
class Case:
    name: str
    input: str  # dockerfile | upstream | lock | config
    file: str  # the file the error names, relative to the repo
    line: Optional[int]
    message: str
    apply: Callable[[Path], None]


def _edit(rel: str, change: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    def apply(repo: Path) -> None:
        path = repo / rel
        path.write_bytes(change(path.read_bytes()))
    return apply


def _write(rel: str, data: bytes) -> Callable[[Path], None]:
    return _edit(rel, lambda old: data)


def _vllm_ref(value: bytes) -> Callable[[Path], None]:
    return _edit(VLLM, lambda old: old.replace(b'"v0.11.0"', value))


def _symlink_out(repo: Path) -> None:
    outside = repo.parent / "outside.Dockerfile"  # next to the repo, not in it
    outside.write_bytes(b'FROM python:3.12\nARG VLLM_REF="v0.10.2"\n')
    (repo / VLLM).unlink()
    os.symlink(outside, repo / VLLM)


def _fifo(repo: Path) -> None:
    (repo / VLLM).unlink()
    os.mkfifo(repo / VLLM)


def _deep_toml(old: bytes) -> bytes:
    return old + b"\nbomb = " + b"[" * 100_000 + b"]" * 100_000 + b"\n"


CASES = [
    Case("dockerfile-50mb", "dockerfile", VLLM, None, "over aligner's limit",
         _edit(VLLM, lambda old: old + b"# " + b"x" * (50 * MB) + b"\n")),
    Case("dockerfile-1mb-line", "dockerfile", VLLM, 12, "longer than the 65535",
         _edit(VLLM, lambda old: old + b"RUN echo " + b"a" * MB + b"\n")),
    Case("nul-byte", "dockerfile", VLLM, 12, "binary file", _edit(VLLM, lambda old: old + b"\x00\n")),
    Case("invalid-utf8", "dockerfile", VLLM, 12, "not valid UTF-8", _edit(VLLM, lambda old: old + b"# \xff\xfe\n")),
    Case("symlink-out-of-repo", "dockerfile", VLLM, None, "out of the repository", _symlink_out),
    Case("fifo", "dockerfile", VLLM, None, "not a regular file", _fifo),
    Case("upstream-toml-bomb", "upstream", UPSTREAM, None, "nested too deeply", _edit(UPSTREAM, _deep_toml)),
    Case("upstream-duplicate-key", "upstream", UPSTREAM, 3, "invalid TOML",
         _write(UPSTREAM, b'[project]\nname = "ai-dynamo"\nname = "other"\n')),
    Case("upstream-not-utf8", "upstream", UPSTREAM, None, "not valid UTF-8",
         _write(UPSTREAM, b'[project]\nname = "\xff"\n')),
    Case("lock-wrong-types", "lock", LOCK, 3, "not an aligner lock",
         _write(LOCK, b"version = 1\n[[image]]\nname = 3\npins = 'x'\n")),
    Case("lock-garbage", "lock", LOCK, 1, "not a readable lock", _write(LOCK, b"\x01garbage [[[\n")),
    Case("lock-merge-conflict", "lock", LOCK, 1, "not a readable lock",
         _edit(LOCK, lambda old: b"<<<<<<< HEAD\n" + old + b"=======\n>>>>>>> main\n")),
    Case("lock-future-format", "lock", LOCK, 2, "not an aligner lock",
         _edit(LOCK, lambda old: old.replace(b"version = 1", b"version = 7"))),
    Case("config-unknown-key", "config", CONFIG, None, "unknown key", _edit(CONFIG, lambda old: b"frobnicate = 1\n" + old)),
    Case("config-wrong-type", "config", CONFIG, None, "must be a list",
         _edit(CONFIG, lambda old: old.replace(b'platforms = ["linux/amd64", "linux/arm64"]', b'platforms = "linux/amd64"', 1))),
    Case("config-toml-bomb", "config", CONFIG, None, "nested too deeply", _edit(CONFIG, lambda old: _deep_toml(old))),
]


# Values Docker builds: aligner reads the file (never refuses it), and such a value is never passed to a
# build, written into the lock, or written by fix. (file, the hostile bytes, how to make the case)
BUILT = [
    ("self-referencing-arg", b"$VLLM_REF", _vllm_ref(b"$VLLM_REF")),
    ("pin-with-command-list", b"curl x | sh", _vllm_ref(b'"0.10.2; curl x | sh"')),
    ("pin-with-substitution", b"$(curl x)", _vllm_ref(b'"$(curl x)"')),
    ("pin-with-backticks", b"`curl x`", _vllm_ref(b'"`curl x`"')),
    ("nested-expansion", b"${A:-" * 40, _edit(VLLM, lambda old: old + b"RUN echo " + b"${A:-" * 40 + b"x" + b"}" * 40 + b"\n")),
]

# What each command reads. `report`, `bake` and `verify` work from the lock, which records its upstream's
# digest, so they never read the upstream; `explain` and `graph` resolve afresh and never read the lock.
ALL = {"dockerfile", "upstream", "lock", "config"}
COMMANDS = {
    "pins": (["pins", "."], {"dockerfile", "config"}),
    "check": (["check", "--no-cache"], ALL),
    "lock": (["lock"], ALL),
    "lock --check": (["lock", "--check"], ALL),
    "fix": (["fix"], ALL),
    "fix --apply": (["fix", "--apply", "--report", "fix-report.md"], ALL),
    "explain": (["explain", "vllm"], {"dockerfile", "upstream", "config"}),
    "graph": (["graph", "--format", "json"], {"dockerfile", "upstream", "config"}),
    "report": (["report", "--output", "versions.md"], {"dockerfile", "lock", "config"}),
    "bake": (["bake", "--output", "bake.json"], {"dockerfile", "lock", "config"}),
    "verify": (["verify", "--resolve", "--offline", "--report", "verify.md"], {"dockerfile", "lock", "config"}),
}
