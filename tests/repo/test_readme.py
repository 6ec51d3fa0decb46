"""The README's set-up commands stay true."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def commands():
    text = (ROOT / "README.md").read_text("utf-8")
    section = text.split("## Set up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^    (\S.*)$", section, re.M)


def test_ci_runs_exactly_the_readme_test_command():
    install_and_run, test_command = commands()
    ci = (ROOT / ".ci" / "run").read_text("utf-8").splitlines()
    assert test_command in ci
    assert install_and_run.endswith("&& aligner check")


def test_the_readme_main_job_is_clean_on_this_repos_images_and_the_lock_is_current(run_aligner):
    """What the first set-up command runs, after installing: `aligner check` on dockerfiles/."""
    out = run_aligner("check", cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "No findings." in out.stdout
    out = run_aligner("lock", "--check", cwd=ROOT)
    assert out.returncode == 0, out.stderr
