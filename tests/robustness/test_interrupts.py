"""Ctrl-C (SIGINT) in real processes, at the worst moments, chosen through tests/support/hooks/sitecustomize.py
(a stall in os.fsync or os.replace): every file is wholly old or wholly new, no temporary file is left,
and the exit status is 130. verify's docker builds are stopped with it."""

import signal
import subprocess
import time
from pathlib import Path

from tests.support import processes
from tests.support.repos import copy_repo


def interrupted(repo, tmp_path, call, *argv):
    """(exit status, stderr) of the command, sent SIGINT while its first os.<call> is held by the hook."""
    marker = tmp_path / f"stalled-in-{call}"
    proc = processes.Watched(processes.start(*argv, cwd=repo, extra={"ALIGNER_TEST_STALL": f"{call}:{marker}"}))
    processes.wait_for(marker, proc=proc.proc)  # the hook: the process is inside its first os.<call>, held
    assert proc.proc.poll() is None
    proc.proc.send_signal(signal.SIGINT)
    Path(f"{marker}.release").touch()  # only now may the call go on: the signal came while it was held
    code, out, err = proc.finish(timeout=60)
    return code, err


def test_fix_apply_interrupted_while_writing_leaves_every_file_old(tmp_path):
    repo = copy_repo("dynamo", tmp_path)
    before = processes.files(repo)
    code, err = interrupted(repo, tmp_path, "fsync", "fix", "--apply", "--unsafe-fixes")
    assert code == 130, err
    assert "interrupted: no file was left half-written" in err and "Traceback" not in err
    assert processes.files(repo) == before
    assert not processes.temporaries(repo)


def test_fix_apply_interrupted_while_renaming_finishes_every_rename(tmp_path):
    alone = copy_repo("dynamo", tmp_path / "alone")
    assert processes.run("fix", "--apply", "--unsafe-fixes", cwd=alone).returncode == 0
    dockerfiles = {k: v for k, v in processes.files(alone).items() if k.startswith("container/")}
    repo = copy_repo("dynamo", tmp_path / "repo")
    before = {k: v for k, v in processes.files(repo).items() if k.startswith("container/")}
    assert sum(before[k] != dockerfiles[k] for k in before) >= 2, "the fix must change several files"
    code, err = interrupted(repo, tmp_path, "replace", "fix", "--apply", "--unsafe-fixes")
    assert code == 130, err
    now = {k: v for k, v in processes.files(repo).items() if k.startswith("container/")}
    assert now == dockerfiles  # all renamed together: the interrupt waited for the last
    assert not processes.temporaries(repo)


def test_lock_interrupted_while_writing_leaves_no_lock_and_no_temporary(tmp_path):
    repo = copy_repo("dynamo", tmp_path)
    code, err = interrupted(repo, tmp_path, "fsync", "lock")
    assert code == 130, err
    assert not (repo / "lock" / "aligner.lock").exists()
    assert not processes.temporaries(repo)


SLOW = """\
ARG BASE_IMAGE=aligner-test-base:bookworm
FROM ${BASE_IMAGE}
ARG PYTHON_VERSION=3.11
RUN echo aligner-interrupt-test && sleep 300
"""


def _running(pattern: str) -> bool:
    return subprocess.run(["pgrep", "-f", pattern], capture_output=True).returncode == 0


def test_verify_interrupted_mid_build_stops_the_build_and_removes_its_temporaries(tmp_path):
    from tests.cli.test_verify_build import BASE, docker

    assert docker("image", "inspect", BASE).returncode == 0, "run `sh tests/setup-machine.sh` as root"
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "Dockerfile.slow").write_text(SLOW)
    (repo / "aligner.toml").write_text('[images.slowpoke]\ndockerfile = "Dockerfile.slow"\n'
                                       'platforms = ["linux/amd64"]\n')
    assert processes.run("lock", cwd=repo).returncode == 0
    temp = tmp_path / "tmp"
    temp.mkdir()
    watched = processes.Watched(processes.start("verify", "--build", "--no-cache", cwd=repo,
                                                extra={"TMPDIR": str(temp)}))
    proc = watched.proc
    stop = time.monotonic() + 120
    # inside the build: the docker CLI is building our tag and the RUN step's `sleep 300` is running
    while not (_running("aligner-verify/slowpoke") and _running("aligner-interrupt-test")):
        assert proc.poll() is None, f"verify ended before its build step ran: {''.join(watched.err)}"
        assert time.monotonic() < stop, f"the build step never ran in 120 s: {''.join(watched.err)}"
        time.sleep(0.2)
    assert proc.poll() is None
    proc.send_signal(signal.SIGINT)
    code, out, err = watched.finish(timeout=60)
    assert code == 130, err
    assert "Traceback" not in err
    assert not _running("aligner-verify/slowpoke"), "the docker CLI outlived aligner"
    stop = time.monotonic() + 30
    while _running("aligner-interrupt-test"):  # BuildKit cancels the step once its client is gone
        assert time.monotonic() < stop, "the build step kept running"
        time.sleep(0.5)
    assert not list(temp.iterdir()), "verify left its temporary folders"
    assert not processes.temporaries(repo)
