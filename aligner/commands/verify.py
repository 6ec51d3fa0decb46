"""`aligner verify`: prove the lock with real builds and probes, and with a real resolver (uv)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List

from aligner.base import status
from aligner.commands import options

VERIFY_HELP = """\
Prove the lock. --build builds each locked image with the lock's values as
--build-args (real Docker builds, up to --jobs at once), starts ONE container
per image that runs every probe of its components (importlib.metadata, the
interpreter, /usr/local/cuda/version.json or CUDA_VERSION or nvcc, ucx_info),
and compares what it finds with the lock. --resolve asks uv whether each
image's locked Python pins install together for its Python and platforms,
without installing anything (an sdist-only release has its metadata built,
as pip in the image would; --no-build forbids that). With neither, both run.

Builds use the docker CLI with BuildKit (buildx, or a classic CLI before 23
with DOCKER_BUILDKIT=1); ALIGNER_DOCKER or --docker picks the CLI and
DOCKER_HOST the engine. --host-secrets passes the host's CA bundle
(SSL_CERT_FILE, PIP_CERT, REQUESTS_CA_BUNDLE or pip's `cert`) as the build
secret `ca` and its proxies (HTTPS_PROXY, HTTP_PROXY, NO_PROXY) as the
secrets `https_proxy`, `http_proxy`, `no_proxy`: a Dockerfile reads them with
`RUN --mount=type=secret,id=ca pip install --cert /run/secrets/ca ...`, so
they never end up in a layer.
"""


def configure(v: argparse.ArgumentParser) -> None:
    v.description = VERIFY_HELP
    v.formatter_class = argparse.RawDescriptionHelpFormatter
    v.epilog = "exit status: 0 the lock holds, 1 a mismatch, a failed build or an unresolvable set, 2 error"
    options.config(v)
    v.add_argument("--build", action="store_true", help="build each image and run its probes")
    v.add_argument("--resolve", action="store_true", help="resolve each image's Python pins with uv")
    v.add_argument("--images", nargs="+", metavar="NAME", help="only these images of the lock")
    v.add_argument("--platform", action="append", metavar="P",
                   help="build for P (repeatable; default: this host's platform, where the image lists it). "
                        "--resolve takes every platform of the lock unless given")
    v.add_argument("--jobs", "-j", type=int, default=2, metavar="N", help="builds at once (default 2)")
    v.add_argument("--logs", metavar="DIR", help="keep each build's log here (default: a new temporary directory)")
    v.add_argument("--report", metavar="FILE", help="write the results: FILE.md (Markdown) or FILE.json")
    v.add_argument("--builder", choices=("docker", "bake"), default="docker",
                   help="docker: one `docker build` per Dockerfile (default); bake: one `docker buildx bake` "
                        "of the whole matrix (needs buildx)")
    v.add_argument("--no-cache", action="store_true", help="build without the engine's layer cache")
    v.add_argument("--docker", metavar="CLI", help="the docker CLI to use (default: ALIGNER_DOCKER, else PATH)")
    v.add_argument("--build-arg", action="append", default=[], metavar="KEY=VALUE",
                   help="also pass this build arg (e.g. BASE_IMAGE=a local base image); the lock's values win")
    v.add_argument("--secret", action="append", default=[], metavar="SPEC",
                   help="pass a BuildKit secret, as `docker build --secret` takes it (id=ID,src=FILE)")
    v.add_argument("--host-secrets", action="store_true", help="pass the host's CA bundle and proxies as secrets")
    v.add_argument("--glibc", metavar="X.Y",
                   help="--resolve: the glibc of the images' OS, for manylinux wheel tags (default: the OS their "
                        "base image's tag names, from rules/os.toml, e.g. 2.39 for ubuntu24.04; else 2.28)")
    v.add_argument("--no-build", action="store_true",
                   help="--resolve: never build an sdist for its metadata (no package code runs here); a release "
                        "with no wheel then fails to resolve")



def pairs(items: List[str], flag: str):
    from aligner.base.errors import UsageError

    out = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise UsageError(flag, f"expected KEY=VALUE, got {item!r}")
        out[key] = value
    return out


def targets_of(args, ws, platforms=None):
    """The image/platform builds of the lock on disk (with a note when it is stale)."""
    from aligner.decide import lock
    from aligner.know.components import catalog
    from aligner.read.config import KNOWN_PLATFORMS
    from aligner.base.errors import UsageError
    from aligner.base.paths import display
    from aligner.act.verify import plan

    cfg = ws.cfg
    path, data = options.recorded_lock(ws)
    contexts = {name: img.context for name, img in cfg.images.items()}
    if not lock.matches_inputs(cfg, data, ws.raw, ws.build_scripts()):
        print(f"note: {display(path)} is stale (its Dockerfiles or config changed since `aligner lock`); "
              "verifying it as written", file=sys.stderr)
    bad = [p for p in (platforms or []) if p not in KNOWN_PLATFORMS]
    if bad:
        raise UsageError("--platform", f"unknown platform {bad[0]!r} (known: {', '.join(sorted(KNOWN_PLATFORMS))})")
    return plan.targets(data, cfg.root, catalog(), contexts, args.images, platforms,
                        pairs(args.build_arg, "--build-arg"), display(path), ws.raw, _passed(ws))


def _passed(ws):
    """What the build scripts pass a Dockerfile, as verify passes it: the values known without running them."""
    def passed(path: str):
        return {name: value.text for name, value in ws.build_args(path).args.items() if not value.unknown}
    return passed


def run(args) -> int:
    from aligner.base.errors import UsageError

    if args.report:
        from aligner.act.verify.report import FORMATS

        options.report_format("--report", args.report, FORMATS)
    if args.jobs < 1:
        raise UsageError("--jobs", "must be at least 1")
    ws = options.workspace(args)
    cfg = ws.cfg
    targets = targets_of(args, ws, args.platform)  # every image and platform of the lock (or --platform)
    from aligner.know import fetch

    both, args.offline = not (args.build or args.resolve), fetch.OFFLINE  # --offline or ALIGNER_OFFLINE
    if args.offline and args.build:
        raise UsageError("--offline", "verify --build needs the network (base images, pip in the build); "
                                            "use --resolve, which runs uv --offline, or drop --offline")
    if args.offline and both:
        print("note: --offline: resolving only; a build needs the network", file=sys.stderr)
        both, args.resolve = False, True
    report: dict = {}
    failed = False
    if args.resolve or both:
        failed |= _resolve(args, targets, report)
    if args.build or both:
        failed |= _build(args, cfg, targets, report)
    if args.report:
        _write_report(args.report, report)
    return status.FINDINGS if failed else status.OK


def _resolve(args, targets, report: dict) -> bool:
    from aligner.know import indexurl
    from aligner.act.verify import uvcheck
    from aligner.know.components import catalog

    index, _ = indexurl.resolve()
    cat, cert = catalog(), indexurl.cert()
    results = []
    for t in targets:
        glibc = args.glibc or t.glibc
        res = uvcheck.resolve(t.image, t.platform, t.locked, cat, index, glibc, cert, no_build=args.no_build,
                              offline=args.offline)  # a ToolError when uv is missing or fails
        results.append(res)
        mark = "ok" if res.ok else "FAILS"
        print(f"resolve {t.image} ({t.platform}, Python {res.python}, glibc {glibc}): {mark}: {res.detail.splitlines()[0] if res.ok else ''}"
              .rstrip(": "), file=sys.stderr)
        if not res.ok:
            print(f"  {' '.join(res.requirements)}", file=sys.stderr)
            for line in res.detail.splitlines():
                print(f"  {line}", file=sys.stderr)
    report["resolve"] = results
    bad = [r for r in results if not r.ok]
    print(f"resolve: {len(results) - len(bad)} of {len(results)} image/platform sets install together",
          file=sys.stderr)
    return bool(bad)


def _build(args, cfg, targets, report: dict) -> bool:
    import shutil
    import tempfile

    from rich.console import Console

    from aligner.know import indexurl
    from aligner.act.verify import builds, docker, report as show

    host = builds.host_platform()
    engine = docker.find(args.docker, need_buildx=args.builder == "bake")  # a ToolError when there is none
    if not args.platform:  # this host's platform, where the image lists it; else the image's first
        by_image = {}
        for t in targets:
            by_image.setdefault(t.image, []).append(t)
        targets = [next((t for t in ts if t.platform == host), ts[0]) for ts in by_image.values()]
    logs = Path(args.logs) if args.logs else Path(tempfile.mkdtemp(prefix="aligner-verify-"))
    sources = builds.host_secrets(pip_cert=indexurl.cert()) if args.host_secrets else {}
    secrets = builds.Secrets(sources, args.secret)
    console = Console(stderr=True)
    try:
        with _Progress(console) as status:
            if args.builder == "bake":
                results = builds.run_bake(engine, targets, cfg.root, logs, secrets.args, status)
            else:
                results = builds.run(engine, targets, cfg.root, logs, args.jobs, secrets.args, status, args.no_cache)
    except KeyboardInterrupt:
        if not args.logs:  # our own temporary folder: nobody will be told where it is
            shutil.rmtree(logs, ignore_errors=True)
        raise
    finally:
        secrets.close()
    show.text(results, Console(file=sys.stdout, width=max(100, Console().width)))
    print(f"build logs: {logs}", file=sys.stderr)
    report["build"] = results
    return not all(r.ok for r in results)


class _Progress:
    """Live progress: a rich table of image states on a terminal; one plain line per change
    elsewhere (CI logs, pipes)."""

    def __init__(self, console):
        self.console, self.states, self.live = console, {}, None

    def __enter__(self):
        if self.console.is_terminal:
            from rich.live import Live

            self.live = Live(self._table(), console=self.console, transient=True, refresh_per_second=4)
            self.live.__enter__()
        return self

    def __exit__(self, *exc):
        if self.live:
            self.live.__exit__(*exc)

    def _table(self):
        from rich.table import Table

        table = Table(show_header=False, box=None)
        for (image, plat), text in self.states.items():
            table.add_row(f"[bold]{image}[/]", plat, text)
        return table

    def __call__(self, t, text: str) -> None:
        self.states[(t.image, t.platform)] = text
        if self.live:
            self.live.update(self._table())
        else:
            self.console.print(f"[bold]{t.image}[/] ({t.platform}): {text}", highlight=False)


def _write_report(path: str, report: dict) -> None:
    from aligner.act.verify import report as show
    from aligner.base.atomic import atomic_write

    build, resolve = report.get("build", []), report.get("resolve", [])
    text = show.FORMATS[options.report_format("--report", path, show.FORMATS)](build, resolve)
    atomic_write(Path(path).resolve(), text.encode("utf-8"))
