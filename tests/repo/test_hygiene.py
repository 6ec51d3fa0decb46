"""No registry host name and no path of a developer's machine in any tracked file."""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
# spelled in pieces so that this file does not trip its own check
FORBIDDEN = ["nvcr" + ".io", "pypi" + ".org", "pythonhosted" + ".org", "docker" + ".io/", "index.docker" + ".io", "registry-1.docker" + ".io", "ghcr" + ".io",
             "quay" + ".io", "download.pytorch" + ".org",
             # (Debian's package is named docker.io: the bare name is allowed, a registry reference is not)
             # this machine's own paths (paths inside images, such as a cache mount's target, are fine)
             "/wo" + "rk/", ".py" + "env/", "/opt/" + "wheels", "/opt/" + "pypi"]


def test_no_registry_hosts_or_machine_paths():
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.split()
    hits = []
    for name in files:
        path = ROOT / name
        if not path.is_file():
            continue
        text = path.read_bytes().decode("utf-8", "replace").lower()
        hits += [f"{name}: {word}" for word in FORBIDDEN if word in text]
    assert not hits
