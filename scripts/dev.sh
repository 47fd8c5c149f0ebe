#!/usr/bin/env bash
# Runs the whole revhub stack on this machine with local defaults (see `revhub dev --help`):
# makes the machine ready (scripts/setup.sh), then `revhub dev`. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=setup.sh
. scripts/setup.sh
go build -o .revhub/bin/revhub ./cmd/revhub
exec .revhub/bin/revhub dev "$@"
