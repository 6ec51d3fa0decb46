"""Every command on every hostile input (tests/support/hostile.py): exit 2, one error naming the file (and line),
no traceback, and no file changed. A command that does not read the broken input still must not crash or
write to it."""

import hashlib
import os
import re
import shutil
import stat
from pathlib import Path

import pytest

from tests.support import processes
from tests.support.hostile import BUILT, CASES, COMMANDS
from tests.support.repos import copy_repo


@pytest.fixture(scope="module")
def locked(tmp_path_factory):
    repo = copy_repo("dynamo", tmp_path_factory.mktemp("base"))
    result = processes.run("lock", cwd=repo)
    assert result.returncode == 0, result.stderr
    return repo


def state(repo: Path) -> dict:
    """Every entry under the repo: a file's digest, a link's target, a FIFO as such (never opened)."""
    out = {}
    for path in sorted(repo.rglob("*")):
        st = path.lstat()
        if stat.S_ISLNK(st.st_mode):
            out[str(path)] = "link:" + os.readlink(path)
        elif stat.S_ISREG(st.st_mode):
            out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
        elif stat.S_ISFIFO(st.st_mode):
            out[str(path)] = "fifo"
        else:
            out[str(path)] = "dir"
    return out


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_command_refuses_the_input_cleanly(case, locked, tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(locked, repo)
    case.apply(repo)
    before = state(repo)
    where = re.escape(case.file) + (f":{case.line}" if case.line else "")
    expected = re.compile(rf"^error: (?:\S*/)?{where}: .*{re.escape(case.message)}", re.M)
    for name, (argv, reads) in COMMANDS.items():
        # a FIFO opened by mistake would block forever: the timeout turns that into a failure
        result = processes.run(*argv, cwd=repo, timeout=120)
        said = f"{name} on {case.name}: exit {result.returncode}\n{result.stderr[-1500:]}"
        assert "Traceback" not in result.stderr, said
        if case.input in reads:
            assert result.returncode == 2, said
            assert expected.search(result.stderr), said
            assert state(repo) == before, f"{name} changed files on {case.name}"
        else:  # not its input: it may do its job (and write its own output), but touches nothing that was there
            after = state(repo)
            assert {k: after.get(k) for k in before} == before, f"{name} changed files on {case.name}"
            for output in ("fix-report.md", "versions.md", "bake.json", "verify.md"):
                (repo / output).unlink(missing_ok=True)
    assert not list(repo.rglob("*.tmp")), "a temporary file was left behind"


@pytest.mark.parametrize("name,value,apply", BUILT, ids=[b[0] for b in BUILT])
def test_values_docker_builds_are_read_and_never_passed_on(name, value, apply, locked, tmp_path):
    """Docker builds these files, so aligner reads them; the value is no version, so it never reaches
    the lock, a build's arguments or the report of a fix, and fix never copies it anywhere."""
    repo = tmp_path / "repo"
    shutil.copytree(locked, repo)
    apply(repo)
    for cmd, (argv, _) in COMMANDS.items():
        result = processes.run(*argv, cwd=repo, timeout=120)
        said = f"{cmd} on {name}: exit {result.returncode}\n{result.stderr[-1500:]}"
        assert "Traceback" not in result.stderr and result.returncode in (0, 1), said
        written = [p for p in ("lock/aligner.lock", "bake.json") if (repo / p).exists()]
        assert not [p for p in written if value in (repo / p).read_bytes()], said
        dockerfiles = [p for p in repo.rglob("Dockerfile*") if value in p.read_bytes()]
        assert len(dockerfiles) <= 1 and all(p.read_bytes().count(value) == 1 for p in dockerfiles), said
