"""Which package index to ask: the user's pip/uv configuration, else pip's default.

No index host is written in aligner: the default comes from the installed pip.
"""

from __future__ import annotations

import configparser
import os
import sys
from pathlib import Path
from typing import Iterable, List, Optional, Tuple
from aligner.base.errors import ToolError


class IndexConfigError(ToolError):
    """No index can be found in pip's or uv's configuration."""


def pip_config_files() -> List[Path]:
    """pip's configuration files, lowest priority first (see `pip config debug`)."""
    files: List[Path] = []
    xdg_dirs = os.environ.get("XDG_CONFIG_DIRS", "/etc/xdg").split(os.pathsep)
    files += [Path(d) / "pip" / "pip.conf" for d in reversed(xdg_dirs) if d]
    files.append(Path("/etc/pip.conf"))
    home = Path.home()
    files.append(home / ".pip" / "pip.conf")
    files.append(Path(os.environ.get("XDG_CONFIG_HOME", home / ".config")) / "pip" / "pip.conf")
    files.append(Path(sys.prefix) / "pip.conf")
    if os.environ.get("PIP_CONFIG_FILE") and os.environ["PIP_CONFIG_FILE"] != os.devnull:
        files.append(Path(os.environ["PIP_CONFIG_FILE"]))
    return files


def _from_pip_files(files: Iterable[Path], option: str = "index-url") -> Optional[Tuple[str, str]]:
    found = None
    for path in files:
        parser = configparser.RawConfigParser()
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError, OSError):
            continue
        for section in ("global", "install"):
            if parser.has_option(section, option):
                found = (parser.get(section, option).strip(), str(path))
    return found


def cert() -> Optional[str]:
    """The CA bundle pip is told to trust (PIP_CERT, or `cert` in pip's configuration), if any."""
    if os.environ.get("PIP_CERT"):
        return os.environ["PIP_CERT"]
    found = _from_pip_files(pip_config_files(), "cert")
    return found[0] if found else None


def pip_default() -> str:
    try:
        from pip._internal.models.index import PyPI  # the one place the default lives
    except ImportError:  # pragma: no cover - pip is missing only in odd environments
        raise IndexConfigError("no index configured and pip is not installed: set PIP_INDEX_URL") from None
    return PyPI.simple_url


def resolve(explicit: Optional[str] = None) -> Tuple[str, str]:
    """(index URL, where it came from)."""
    if explicit:
        return explicit, "--index-url"
    for var in ("PIP_INDEX_URL", "UV_DEFAULT_INDEX", "UV_INDEX_URL"):
        if os.environ.get(var):
            return os.environ[var].strip(), var
    found = _from_pip_files(pip_config_files())
    if found:
        return found[0], found[1]
    return pip_default(), "pip's default"


def project_url(index: str, project: str) -> str:
    from packaging.utils import canonicalize_name

    return index.rstrip("/") + "/" + canonicalize_name(project) + "/"
