"""`aligner.rules` from this checkout's rules/ folder.

pyproject.toml ships the top-level rules/ folder as the package `aligner.rules` (setuptools package-dir);
an install makes that mapping, a checkout on PYTHONPATH does not. Without it, `python3 -m aligner` run
from the checkout finds no `aligner.rules`, or (next to an editable install of another checkout) finds
that other checkout's rules. This finder maps `aligner.rules` to the rules/ next to the `aligner` package
being run, and only when that `aligner` is this checkout's.

Installed by tests/support/hooks/sitecustomize.py in every child process with tests/support/hooks on PYTHONPATH, and by
tests/conftest.py in the pytest process.
"""

import importlib.abc
import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent.parent
PACKAGE = ROOT / "aligner"
RULES = ROOT / "rules"


class CheckoutRules(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname != "aligner.rules":
            return None
        parent = sys.modules.get("aligner")
        origin = getattr(parent, "__file__", None)
        if origin is None or Path(origin).resolve().parent != PACKAGE:
            return None  # some other aligner (an installed wheel): its own rules
        return importlib.util.spec_from_file_location(
            fullname, RULES / "__init__.py", submodule_search_locations=[str(RULES)])


def install() -> None:
    if not any(isinstance(f, CheckoutRules) for f in sys.meta_path):
        sys.meta_path.insert(0, CheckoutRules())
