"""check as users run it: SARIF that validates, a golden JSON report, the pre-commit hook, the cache."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT, aligner_env
from tests.support.repos import copy_repo

SCHEMA = ROOT / "tests" / "fixtures" / "sarif" / "sarif-schema-2.1.0.json"
GOLDEN = ROOT / "tests" / "fixtures" / "repos" / "dynamo-check.json"


@pytest.fixture
def repo(tmp_path):
    return copy_repo("dynamo", tmp_path)


def test_sarif_validates_against_the_2_1_0_schema(repo, run_aligner):
    import jsonschema

    result = run_aligner("check", "--no-cache", "--format", "sarif", cwd=repo)
    assert result.returncode == 1, result.stderr
    doc = json.loads(result.stdout)
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft4Validator(schema).validate(doc)
    run = doc["runs"][0]
    ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert all(run["tool"]["driver"]["rules"][r["ruleIndex"]]["id"] == r["ruleId"] for r in run["results"])
    assert all(r["help"]["markdown"] for r in run["tool"]["driver"]["rules"]) and "AL001" in ids
    uris = {loc["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"] for loc in r["locations"]}
    assert all(not u.startswith("/") for u in uris)


def test_json_report_of_the_scenario_matches_the_golden_file(repo, run_aligner):
    result = run_aligner("check", "--no-cache", "--format", "json", cwd=repo)
    assert result.returncode == 1, result.stderr
    assert json.loads(result.stdout) == json.loads(GOLDEN.read_text())


def test_unchanged_repo_is_answered_from_the_cache_and_a_change_is_not(repo, run_aligner, tmp_path, monkeypatch):
    monkeypatch.setenv("ALIGNER_CACHE_DIR", str(tmp_path / "cache"))
    first = json.loads(run_aligner("check", "--format", "json", cwd=repo).stdout)
    (entry,) = (tmp_path / "cache" / "check").glob("*.json")
    cached = json.loads(entry.read_text())
    cached["findings"][0]["message"] = "served from the cache"
    entry.write_text(json.dumps(cached))
    again = json.loads(run_aligner("check", "--format", "json", cwd=repo).stdout)
    assert again["findings"][0]["message"] == "served from the cache"
    assert [f["code"] for f in again["findings"]] == [f["code"] for f in first["findings"]]
    df = repo / "container" / "Dockerfile.dynamo-vllm"
    df.write_text(df.read_text().replace('ARG FLASHINF_REF=""', 'ARG FLASHINF_REF="v0.3.0"'))
    changed = json.loads(run_aligner("check", "--format", "json", cwd=repo).stdout)
    assert "served from the cache" not in json.dumps(changed)
    assert not [f for f in changed["findings"] if f["code"] == "AL001" and "FLASHINF_REF" in f["message"]]


@pytest.mark.network  # pre-commit installs this checkout, with its build backend and dependencies, from the index
def test_pre_commit_try_repo_runs_the_hook(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    env = dict(os.environ, PRE_COMMIT_HOME=str(tmp_path / "pc-home"), GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t")
    env.pop("PYTHONPATH", None)  # the hooks run the aligner pre-commit installs from this checkout, nothing else
    git = lambda *a: subprocess.run(["git", *a], cwd=work, check=True, capture_output=True, env=env)
    git("init", "-q")
    (work / "Dockerfile").write_text("ARG VLLM_COMMIT=main\nFROM python:3.12\nRUN pip install flashinfer-python\n")
    git("add", "Dockerfile")
    pre_commit = [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "aligner-check", "--all-files"]
    bad = subprocess.run(pre_commit, cwd=work, capture_output=True, text=True, env=env, timeout=900)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "AL001" in bad.stdout and "Failed" in bad.stdout
    (work / "Dockerfile").write_text("FROM python:3.12\nRUN pip install flashinfer-python==0.3.0\n")
    git("add", "Dockerfile")
    good = subprocess.run(pre_commit, cwd=work, capture_output=True, text=True, env=env, timeout=900)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "Passed" in good.stdout
    # the lock hook: fails while the configured image has no lock, passes once it has
    (work / "aligner.toml").write_text('platforms = ["linux/amd64"]\n[images.app]\ndockerfile = "Dockerfile"\n')
    git("add", "aligner.toml")
    lock_hook = pre_commit[:-2] + ["aligner-lock-check", "--all-files"]
    missing = subprocess.run(lock_hook, cwd=work, capture_output=True, text=True, env=env, timeout=900)
    assert missing.returncode == 1 and "missing" in missing.stdout, missing.stdout
    # the missing lock is said once: by the lock hook, not again by aligner-check
    checked = subprocess.run(pre_commit, cwd=work, capture_output=True, text=True, env=env, timeout=900)
    assert checked.returncode == 0 and "AL012" not in checked.stdout, checked.stdout
    # aligner-lock writes the lock, as uv's uv-lock hook does
    write_hook = pre_commit[:-2] + ["aligner-lock", "--all-files"]
    wrote = subprocess.run(write_hook, cwd=work, capture_output=True, text=True, env=env, timeout=900)
    assert (work / "lock" / "aligner.lock").is_file(), wrote.stdout
    git("add", "lock/aligner.lock")
    present = subprocess.run(lock_hook, cwd=work, capture_output=True, text=True, env=env, timeout=900)
    assert present.returncode == 0, present.stdout
    # a pin changed: aligner-lock rewrites the tracked lock, and pre-commit fails the commit so it is added
    (work / "Dockerfile").write_text("FROM python:3.12\nRUN pip install flashinfer-python==0.3.1\n")
    git("add", "Dockerfile")
    rewrote = subprocess.run(write_hook, cwd=work, capture_output=True, text=True, env=env, timeout=900)
    assert rewrote.returncode == 1 and "files were modified by this hook" in rewrote.stdout, rewrote.stdout
    git("add", "lock/aligner.lock")
    assert subprocess.run(lock_hook, cwd=work, capture_output=True, text=True, env=env,
                          timeout=900).returncode == 0


def test_check_needs_no_network_and_imports_nothing_heavy_for_concise_output(repo, run_aligner, monkeypatch):
    """resolvelib (pure Python, what pip vendors) is the one import check adds: its fix hints are fix's
    edits, so it resolves the configured images as fix does."""
    for k in ("HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.setenv(k, "http://127.0.0.1:9")  # any network use would fail through this
    result = run_aligner("check", "--no-cache", "--format", "concise", cwd=repo)
    assert result.returncode == 1 and "AL002" in result.stdout, result.stderr
    probe = ("import sys, runpy; sys.argv = ['aligner', 'check', '--no-cache', '--format', 'concise', '--exit-zero']; "
             "import aligner.cli as c; c.main(sys.argv[1:]); "
             "print(sorted(m for m in ('rich', 'networkx', 'requests') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=repo, capture_output=True, text=True,
                         env=aligner_env(), timeout=60)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout + out.stderr
