import os
import sys
import tempfile
import subprocess
from pathlib import Path
from typing import Dict, List, Optional

import pytest

ROOT = Path(__file__).resolve().parent.parent
HOOKS = ROOT / "tests" / "support" / "hooks"

sys.path.insert(0, str(HOOKS))
import checkout_rules  # noqa: E402  (aligner.rules is this checkout's rules/, in this process too)

sys.path.remove(str(HOOKS))
checkout_rules.install()

# no test reads or fills the user's own cache; subprocesses inherit this
os.environ["ALIGNER_CACHE_DIR"] = tempfile.mkdtemp(prefix="aligner-test-cache-")
FIXTURES = ROOT / "tests" / "fixtures"


def aligner_cmd() -> List[str]:
    """This checkout's aligner (never whichever `aligner` is first on PATH); run it with aligner_env()."""
    return [sys.executable, "-m", "aligner"]


def aligner_env(base: Optional[Dict[str, str]] = None, **extra: str) -> Dict[str, str]:
    """base (os.environ by default) and extra, with tests/support/hooks and this checkout's root first on PYTHONPATH:
    the root so that `-m aligner` imports this checkout's package, tests/support/hooks so that `aligner.rules` is its
    rules/ (tests/support/hooks/checkout_rules.py). Entries already there (tests/support/hooks put by tests/support/processes.py) stay."""
    out = dict(os.environ if base is None else base, **extra)
    entries = [str(HOOKS), str(ROOT), *(out.get("PYTHONPATH") or "").split(os.pathsep)]
    out["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(e for e in entries if e))
    return out


@pytest.fixture
def run_aligner():
    def run(*args, cwd=None, input=None):
        env = aligner_env(COLUMNS="200", NO_COLOR="1")
        return subprocess.run(
            [*aligner_cmd(), *args], cwd=cwd, input=input, capture_output=True, text=True, env=env, timeout=60
        )

    return run


@pytest.fixture
def served_upstream(tmp_path, monkeypatch):
    """The dynamo fixture repo with its upstream pyproject served over http by the fault-injecting server
    (tests/support/pep691_server.py, at /up/pyproject.toml), and a cache of its own: (repo, server, url)."""
    from tests.support.pep691_server import Index
    from tests.support.repos import copy_repo

    repo = copy_repo("dynamo", tmp_path)
    body = (repo / "upstream" / "pyproject.toml").read_bytes()
    with Index() as server:
        server.blobs["/up/pyproject.toml"] = body
        url = f"http://127.0.0.1:{server.server.server_address[1]}/up/pyproject.toml"
        config = repo / "aligner.toml"
        config.write_text(config.read_text().replace('"upstream/pyproject.toml"', f'"{url}"'))
        monkeypatch.setenv("ALIGNER_CACHE_DIR", str(tmp_path / "cache"))
        yield repo, server, url
