"""One run reads each Dockerfile once and resolves each image once (the workspace's promise)."""

import builtins
import io
import os
from collections import Counter
from pathlib import Path

import pytest

from aligner import cli
from aligner.decide import lock as lock_mod
from tests.support.example_facts import EXAMPLES, copy_example

EXAMPLE = EXAMPLES / "dynamo-alignment"
DOCKERFILES = ("Dockerfile.base", "Dockerfile.dynamo-vllm", "Dockerfile.dynamo-trtllm")  # its aligner.toml
IMAGES = 2  # dynamo-vllm and dynamo-trtllm


class Opens:
    """Counts each open of a watched file, for reading and for writing, in order."""

    def __init__(self, watched):
        self.watched = {os.path.realpath(p) for p in watched}
        self.reads, self.writes, self.events = Counter(), Counter(), []

    def wrap(self, real):
        def counting(file, mode="r", *args, **kwargs):
            if isinstance(file, (str, bytes, os.PathLike)):
                path = os.path.realpath(os.fsdecode(file))
                if path in self.watched:
                    kind = "read" if set(mode) <= set("rbt") else "write"
                    (self.reads if kind == "read" else self.writes)[path] += 1
                    self.events.append((kind, os.path.basename(path)))
            return real(file, mode, *args, **kwargs)
        return counting


@pytest.fixture
def counted(tmp_path, monkeypatch):
    repo = copy_example(EXAMPLE, tmp_path)
    opens = Opens(repo / name for name in DOCKERFILES)
    monkeypatch.setattr(builtins, "open", opens.wrap(builtins.open))
    monkeypatch.setattr(io, "open", opens.wrap(io.open))
    resolved = []
    from aligner.decide import pythons  # every resolution of an image goes through it (one per Python tried)

    real_resolve = pythons.resolve
    monkeypatch.setattr(pythons, "resolve", lambda problem, *a: resolved.append(problem.image) or
                        real_resolve(problem, *a))
    monkeypatch.chdir(repo)
    return repo, opens, resolved


def test_fix_apply_report_reads_each_dockerfile_once_and_resolves_each_image_once(counted):
    repo, opens, resolved = counted
    before = {name: (repo / name).read_bytes() for name in DOCKERFILES}
    opens.reads.clear(), opens.events.clear()

    status = cli.main(["fix", "--apply", "--unsafe-fixes", "--report", "fix-report.md"])
    reads = dict(opens.reads)  # before this test reads the files itself

    assert status == 0, "everything fix found was written (--unsafe-fixes), so it exits 0 as ruff's does"
    changed = [name for name in DOCKERFILES if (repo / name).read_bytes() != before[name]]
    assert changed, "the fix wrote nothing: the test would prove nothing"
    # Each file is opened for reading once for the whole run (plan, lock, both checks of the report);
    # a file about to be replaced is read once more, just before, to refuse an edit made meanwhile.
    for name in DOCKERFILES:
        path = os.path.realpath(repo / name)
        assert reads.get(path) == (2 if name in changed else 1), (name, opens.events)
    assert sorted(resolved) == sorted(["dynamo-vllm", "dynamo-trtllm"]), resolved
    assert len(resolved) == IMAGES
    report = (repo / "fix-report.md").read_text()
    assert "fixed" in report.lower()


def test_check_reads_each_dockerfile_once_and_resolves_each_image_once(counted):
    repo, opens, resolved = counted
    status = cli.main(["check", "--no-cache", "--format", "concise"])
    assert status in (0, 1)
    for name in DOCKERFILES:
        # once to check it; the text formats show no source line here (concise)
        assert opens.reads[os.path.realpath(repo / name)] == 1, (name, opens.events)
    assert sorted(resolved) == sorted(["dynamo-vllm", "dynamo-trtllm"]), "check plans as fix does: each image once"


def test_a_dry_run_fix_writes_no_dockerfile_and_reads_each_once(counted):
    repo, opens, resolved = counted
    status = cli.main(["fix", "--unsafe-fixes", "--report", "fix-report.json"])
    assert status == 1
    assert not opens.writes, opens.events
    for name in DOCKERFILES:
        assert opens.reads[os.path.realpath(repo / name)] == 1, (name, opens.events)
    assert len(resolved) == IMAGES
    assert Path("fix-report.json").exists()


def test_report_reads_each_dockerfile_once(counted):
    repo, opens, resolved = counted
    assert cli.main(["lock"]) == 0
    opens.reads.clear(), opens.events.clear()
    assert cli.main(["report", "--format", "json"]) == 0
    for name in DOCKERFILES:  # once for the lock's freshness, the arch lists from the same bytes
        assert opens.reads[os.path.realpath(repo / name)] == 1, (name, opens.events)


def test_bake_reads_each_dockerfile_once(counted):
    repo, opens, resolved = counted
    assert cli.main(["lock"]) == 0
    opens.reads.clear(), opens.events.clear()
    assert cli.main(["bake", "--print"]) == 0
    for name in DOCKERFILES:
        assert opens.reads[os.path.realpath(repo / name)] == 1, (name, opens.events)
