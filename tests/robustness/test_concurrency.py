"""Several real `aligner fix --apply` processes on one repository at once: they take turns (a per-repository
flock), so exactly one writes and the others find nothing left to change; no file is half-written and no
temporary file is left. (Two processes filling one cache: tests/unit/test_index.py.)"""

from tests.support import processes
from tests.support.repos import copy_repo


def test_fix_apply_in_three_processes_at_once(tmp_path):
    alone = copy_repo("dynamo", tmp_path / "alone")
    single = processes.run("fix", "--apply", "--unsafe-fixes", "--exit-non-zero-on-fix", cwd=alone)
    assert single.returncode == 1, single.stderr  # 1: it changed files
    expected = processes.files(alone)
    repo = copy_repo("dynamo", tmp_path / "together")
    before = processes.files(repo)
    assert before != {k: v for k, v in expected.items() if k in before}
    procs = [processes.start("fix", "--apply", "--unsafe-fixes", "--exit-non-zero-on-fix", cwd=repo) for _ in range(3)]
    outs = [p.communicate(timeout=300) for p in procs]
    codes = sorted(p.returncode for p in procs)
    for out, err in outs:
        assert "Traceback" not in err, err
    assert codes == [0, 0, 1], [err for _, err in outs]  # one wrote; the others saw its work
    assert processes.files(repo) == expected
    assert not processes.temporaries(repo)


def test_a_second_writer_waits_for_the_first(tmp_path):
    from aligner.act.repolock import held

    repo = copy_repo("dynamo", tmp_path)
    before = processes.files(repo)
    with held(repo):  # this test is the first writer
        proc = processes.Watched(processes.start("fix", "--apply", "--unsafe-fixes", "--exit-non-zero-on-fix",
                                                 cwd=repo))
        # it says so once it has found the lock taken: from then on it is waiting, not writing
        proc.wait_for_stderr("note: waiting for another aligner writing")
        assert proc.proc.poll() is None, "fix --apply did not wait"
        assert processes.files(repo) == before
    code, out, err = proc.finish()
    assert err.count("note: waiting for another aligner writing") == 1, err
    assert code == 1, err  # 1: it changed files, once the first writer was done
    assert processes.files(repo) != before


def test_lock_takes_its_turn_too(tmp_path):
    from aligner.act.repolock import held

    repo = copy_repo("dynamo", tmp_path)
    with held(repo):
        proc = processes.Watched(processes.start("lock", cwd=repo))
        proc.wait_for_stderr("note: waiting for another aligner writing")
        assert proc.proc.poll() is None and not (repo / "lock" / "aligner.lock").exists()
    code, out, err = proc.finish()
    assert code == 0, err
    assert (repo / "lock" / "aligner.lock").exists()
