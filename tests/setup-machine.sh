#!/bin/sh
# Install the system tools the test suite needs, when missing (run as root on a
# fresh machine; a no-op where they are present). Graphviz: `aligner graph --format svg`.
set -eu
need=""
command -v dot >/dev/null 2>&1 || need="$need graphviz"
if [ -n "$need" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "setup-machine: missing:$need (install them, or run this as root)" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $need >/dev/null
fi
