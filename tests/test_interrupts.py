"""Ctrl-C (SIGINT) in real processes, at the worst moments, chosen through tests/hooks/sitecustomize.py
(a stall in os.fsync or os.replace): every file is wholly old or wholly new, no temporary file is left,
and the exit status is 130. verify's docker builds are stopped with it."""

import signal
import subprocess
import time

from tests import processes
from tests.repos import copy_repo


def interrupted(repo, tmp_path, call, *argv):
    marker = tmp_path / f"stalled-in-{call}"
    proc = processes.start(*argv, cwd=repo, extra={"ALIGNER_TEST_STALL": f"{call}:{marker}"})
    processes.wait_for(marker)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, err


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
    assert processes.run("fix", "--apply", "--unsafe-fixes", cwd=alone).returncode == 1
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
    from tests.test_verify_build import BASE, docker

    assert docker("image", "inspect", BASE).returncode == 0, "run `sh tests/setup-machine.sh` as root"
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "Dockerfile.slow").write_text(SLOW)
    (repo / "aligner.toml").write_text('[images.slowpoke]\ndockerfile = "Dockerfile.slow"\n'
                                       'platforms = ["linux/amd64"]\n')
    assert processes.run("lock", cwd=repo).returncode == 0
    temp = tmp_path / "tmp"
    temp.mkdir()
    proc = processes.start("verify", "--build", "--no-cache", cwd=repo, extra={"TMPDIR": str(temp)})
    stop = time.monotonic() + 120
    while not _running("aligner-verify/slowpoke"):  # the docker CLI building our tag
        assert proc.poll() is None and time.monotonic() < stop, proc.stderr.read() if proc.poll() else "no build"
        time.sleep(0.2)
    time.sleep(3)  # inside the build
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert not _running("aligner-verify/slowpoke"), "the docker CLI outlived aligner"
    stop = time.monotonic() + 30
    while _running("aligner-interrupt-test"):  # BuildKit cancels the step once its client is gone
        assert time.monotonic() < stop, "the build step kept running"
        time.sleep(0.5)
    assert not list(temp.iterdir()), "verify left its temporary folders"
    assert not processes.temporaries(repo)
