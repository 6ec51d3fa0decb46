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
