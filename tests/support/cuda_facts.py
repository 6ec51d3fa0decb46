"""CUDA facts for tests, read from the rules/ tables with tomllib (NVIDIA's tag lists, the release that added
each architecture, the GPUs' compute capabilities), not through aligner's own readers."""

from pathlib import Path

from packaging.version import Version

from aligner.know.snapshot import Snapshot
from tests.support.example_facts import tomllib

RULES = Path(__file__).resolve().parent.parent.parent / "rules"
SNAP = Snapshot.load()


def published(flavour: str, os_name: str) -> list:
    rows = tomllib.loads((RULES / "cuda_images.toml").read_text())["tag"]
    return [r["cuda"] for r in rows if flavour in r["flavours"] and os_name in r["os"]]


def added(compute: str) -> str:
    rows = tomllib.loads((RULES / "cuda.toml").read_text())["arch-added"]
    return next(r["cuda"] for r in rows if compute in r["compute"])


def gpu_compute(name: str) -> str:
    return next(r["compute"] for r in tomllib.loads((RULES / "gpus.toml").read_text())["gpu"] if r["name"] == name)


def smallest_move_at_least(floor: str, flavour: str, os_name: str, *more) -> str:
    """The README's preference: the lowest minor release at or above the floor, its newest patch, among the
    releases published in every (flavour, OS) given."""
    have = set(published(flavour, os_name))
    for other in more:
        have &= set(published(*other))
    ok = [Version(v) for v in have if Version(v) >= Version(floor)]
    lowest = min(ok)
    return str(max(v for v in ok if v.release[:2] == lowest.release[:2]))
