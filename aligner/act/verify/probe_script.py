"""Runs INSIDE the image under test, as `python3 -c <this file> <probes as JSON>`.

Standard library only, Python 3.6+, no GPU, no heavy import: each answer comes
from importlib.metadata, a file, an environment variable or a small command.
Prints one JSON object, component -> {"found": version or null, "how": ..., ...}.
"""
import json
import os
import platform
import re
import subprocess
import sys

VERSION = re.compile(r"\d+\.\d+(?:\.\d+)*(?:[a-z]+\d+)?")


def distribution(names):
    try:
        from importlib import metadata
    except ImportError:  # Python < 3.8
        import importlib_metadata as metadata  # type: ignore
    for name in names:
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        out = {"found": dist.version, "how": "importlib.metadata " + name}
        runtime = [r for r in (dist.requires or []) if r.lower().startswith(("nvidia-cuda-runtime", "cuda-toolkit"))]
        if runtime:  # which CUDA a torch wheel was built for, when its version has no +cuNNN label
            out["cuda"] = runtime[0]
        return out
    return {"found": None, "how": "no distribution " + " or ".join(names)}


def cuda():
    try:
        with open("/usr/local/cuda/version.json") as f:
            return {"found": json.load(f)["cuda"]["version"], "how": "/usr/local/cuda/version.json"}
    except (OSError, ValueError, KeyError, TypeError):
        pass
    if os.environ.get("CUDA_VERSION"):
        return {"found": os.environ["CUDA_VERSION"], "how": "CUDA_VERSION"}
    for nvcc in ("nvcc", "/usr/local/cuda/bin/nvcc"):
        text = command([nvcc, "--version"])
        m = re.search(r"release (\d+\.\d+)", text or "")
        if m:
            return {"found": m.group(1), "how": "nvcc --version"}
    return {"found": None, "how": "no version.json, CUDA_VERSION or nvcc"}


def command(argv):
    try:
        done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.decode("utf-8", "replace") if done.returncode == 0 else None


def probe(spec):
    kind = spec["kind"]
    if kind == "python":
        return {"found": platform.python_version(), "how": sys.executable}
    if kind == "distribution":
        return distribution(spec["names"])
    if kind == "cuda":
        return cuda()
    if kind == "command":
        text = command(spec["argv"])
        m = VERSION.search(text or "")
        how = " ".join(spec["argv"])
        return {"found": m.group(0), "how": how} if m else {"found": None, "how": how + " gave no version"}
    return {"found": None, "how": "unknown probe kind " + kind}


def main():
    out = {}
    for spec in json.loads(sys.argv[1]):
        try:
            out[spec["component"]] = probe(spec)
        except Exception as exc:  # one broken probe must not hide the others
            out[spec["component"]] = {"found": None, "how": "probe failed: %s" % exc}
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
