import os
import shutil
import tempfile
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# no test reads or fills the user's own cache; subprocesses inherit this
os.environ["ALIGNER_CACHE_DIR"] = tempfile.mkdtemp(prefix="aligner-test-cache-")
FIXTURES = ROOT / "tests" / "fixtures"


def aligner_exe() -> str:
    """The installed console script; tests of the CLI run what users run."""
    exe = shutil.which("aligner")
    if exe is None:
        pytest.fail("the `aligner` console script is not installed: run `pip install -e .[test]`")
    return exe


@pytest.fixture
def run_aligner():
    def run(*args, cwd=None, input=None):
        env = dict(os.environ, COLUMNS="200", NO_COLOR="1")
        return subprocess.run(
            [aligner_exe(), *args], cwd=cwd, input=input, capture_output=True, text=True, env=env, timeout=60
        )

    return run


@pytest.fixture
def served_upstream(tmp_path, monkeypatch):
    """The dynamo fixture repo with its upstream pyproject served over http by the fault-injecting server
    (tests/pep691_server.py, at /up/pyproject.toml), and a cache of its own: (repo, server, url)."""
    from tests.pep691_server import Index
    from tests.repos import copy_repo

    repo = copy_repo("dynamo", tmp_path)
    body = (repo / "upstream" / "pyproject.toml").read_bytes()
    with Index() as server:
        server.blobs["/up/pyproject.toml"] = body
        url = f"http://127.0.0.1:{server.server.server_address[1]}/up/pyproject.toml"
        config = repo / "aligner.toml"
        config.write_text(config.read_text().replace('"upstream/pyproject.toml"', f'"{url}"'))
        monkeypatch.setenv("ALIGNER_CACHE_DIR", str(tmp_path / "cache"))
        yield repo, server, url
