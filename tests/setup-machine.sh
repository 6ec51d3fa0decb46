#!/bin/sh
# Prepare a machine for the test suite (run as root on a fresh machine; a no-op
# where everything is present):
#   - Graphviz, for `aligner graph --format svg`;
#   - a Docker engine (Debian's docker.io), started when none answers, and
#     debootstrap, for the `aligner verify --build` tests;
#   - a local base image, aligner-test-base:bookworm (Debian minbase with
#     python3 and pip), since no image registry is reachable from CI.
set -eu
BASE_IMAGE=aligner-test-base:bookworm

need=""
command -v dot >/dev/null 2>&1 || need="$need graphviz"
command -v dockerd >/dev/null 2>&1 || need="$need docker.io"
command -v debootstrap >/dev/null 2>&1 || need="$need debootstrap"
if [ -n "$need" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "setup-machine: missing:$need (install them, or run this as root)" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $need >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ]; then
        echo "setup-machine: no Docker engine answers (start dockerd, or run this as root)" >&2
        exit 1
    fi
    log="${TMPDIR:-/tmp}/aligner-test-dockerd.log"
    echo "setup-machine: starting dockerd (log: $log)" >&2
    nohup dockerd >"$log" 2>&1 &
    i=0
    until docker info >/dev/null 2>&1; do
        i=$((i + 1))
        if [ "$i" -gt 60 ]; then
            echo "setup-machine: dockerd did not come up in 60 s; its log:" >&2
            tail -n 20 "$log" >&2
            exit 1
        fi
        sleep 1
    done
fi

if ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    echo "setup-machine: building $BASE_IMAGE with debootstrap (about a minute)" >&2
    root=$(mktemp -d)
    trap 'rm -rf "$root"' EXIT
    debootstrap --variant=minbase --include=python3,python3-pip,ca-certificates bookworm "$root" >/dev/null
    tar -C "$root" -c . | docker import -c 'CMD ["python3"]' - "$BASE_IMAGE" >/dev/null
fi
