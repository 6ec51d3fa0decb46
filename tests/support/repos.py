"""Fixture repositories copied into a test's temporary folder (so that tests may write)."""

import shutil
from pathlib import Path

REPOS = Path(__file__).parent.parent / "fixtures" / "repos"


def copy_repo(name: str, tmp_path: Path) -> Path:
    dst = tmp_path / name
    shutil.copytree(REPOS / name, dst, ignore=shutil.ignore_patterns("lock"))
    return dst
