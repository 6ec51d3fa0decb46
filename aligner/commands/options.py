"""Options that several commands share, and the config every command starts from."""

from __future__ import annotations

import argparse

CONFIG_HELP = "aligner.toml or pyproject.toml with [tool.aligner] (default: found upwards from .)"


def config(p: argparse.ArgumentParser, network: bool = True) -> None:
    p.add_argument("--config", help=CONFIG_HELP)
    if network:
        p.add_argument("--allow-insecure", action="store_true", help="allow a plain http:// upstream URL")
        offline(p)


def offline(p: argparse.ArgumentParser) -> None:
    p.add_argument("--offline", action="store_true",
                   help="never use the network: an upstream URL and index pages come from aligner's cache (saying "
                        "how old they are), uv runs with --offline; also ALIGNER_OFFLINE=1")


def codes(text: str):
    """`AL001,al3` as a tuple of upper-case codes or prefixes."""
    return tuple(c.strip().upper() for c in text.split(",") if c.strip())


def load_config(args: argparse.Namespace):
    """The repo's config; its own components join the catalog for the rest of the run."""
    from pathlib import Path

    from aligner.know import components
    from aligner.read import config as config_mod

    cfg = config_mod.load(Path(args.config) if args.config else None)
    components.use(cfg.catalog())
    return cfg


def workspace(args: argparse.Namespace):
    """The run's workspace: the config, and every file read once from it."""
    from aligner.relate.workspace import Workspace

    return Workspace(load_config(args), getattr(args, "allow_insecure", False))


def knowledge():
    """(catalog, snapshot): what aligner knows, with the config's own components."""
    from aligner.know.components import catalog
    from aligner.know.snapshot import Snapshot

    return catalog(), Snapshot.load()


def recorded_lock(ws):
    """(path, data) of the lock on disk; no lock is an input error that says what to run."""
    from aligner.base.errors import InputError
    from aligner.base.paths import display
    from aligner.decide import lock

    path = ws.cfg.lock_path()
    if not path.exists():
        raise InputError(display(path), None, "no lock: run `aligner lock` first")
    return path, lock.read(path)


def report_format(option: str, path: str, formats) -> str:
    """The format a report file's suffix names (FILE.md, FILE.json), among `formats`."""
    from aligner.base.errors import UsageError

    suffix = path.rsplit(".", 1)[-1] if "." in path else ""
    if suffix not in formats:
        raise UsageError(option, f"must name a {' or '.join('.' + f for f in formats)} file")
    return suffix
