#!/usr/bin/env bash
# Runs govulncheck over revhub with the Go vulnerability database built locally from the
# golang.org/x/vulndb module (its data/osv folder, indexed by the Go team's own cmd/indexdb), so the
# check needs only the Go module proxy, not vuln.go.dev. Any finding that affects revhub's code
# (a vulnerable symbol that is reachable) exits non-zero.
#
#   REVHUB_VULNDB_VERSION  vulndb module version (default: the pinned snapshot below; "latest"
#                          for the newest, which makes the verdict depend on the day it runs)
#   REVHUB_VULNDB          use this database instead (a file:// URL or https://vuln.go.dev)
set -euo pipefail
cd "$(dirname "$0")/.."

# Pinned so that one commit always gets the same verdict; bump it with
#   go list -m -json golang.org/x/vulndb@latest
VULNDB_VERSION="${REVHUB_VULNDB_VERSION:-v0.0.0-20261105234957-e22db6528018}"
GOVULNCHECK_VERSION=v1.9.0

say() { printf 'vulncheck: %s\n' "$*" >&2; }

GOBIN_DIR="$(go env GOPATH)/bin"
case ":$PATH:" in *":$GOBIN_DIR:"*) ;; *) export PATH="$GOBIN_DIR:$PATH" ;; esac

have="$(go version -m "$GOBIN_DIR/govulncheck" 2>/dev/null | awk '$1=="mod"{print $3; exit}' || true)"
if [ "$have" != "$GOVULNCHECK_VERSION" ]; then
  say "installing govulncheck $GOVULNCHECK_VERSION"
  go install "golang.org/x/vuln/cmd/govulncheck@$GOVULNCHECK_VERSION"
fi

db="${REVHUB_VULNDB:-}"
if [ -z "$db" ]; then
  if [ "$VULNDB_VERSION" = latest ]; then
    VULNDB_VERSION="$(go list -m -f '{{.Version}}' golang.org/x/vulndb@latest)"
  fi
  cache="${XDG_CACHE_HOME:-$HOME/.cache}/revhub/vulndb/$VULNDB_VERSION"
  if [ ! -s "$cache/index/modules.json" ]; then
    say "building the vulnerability database from golang.org/x/vulndb@$VULNDB_VERSION"
    src="$(go mod download -json "golang.org/x/vulndb@$VULNDB_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
    [ -d "$src/data/osv" ] || { say "no data/osv in $src"; exit 1; }
    rm -rf "$cache.tmp"
    mkdir -p "$(dirname "$cache")"
    go run "golang.org/x/vulndb/cmd/indexdb@$VULNDB_VERSION" -vulns "$src/data/osv" -out "$cache.tmp"
    rm -rf "$cache"
    mv "$cache.tmp" "$cache"
  fi
  say "database: golang.org/x/vulndb@$VULNDB_VERSION ($(find "$cache/ID" -name '*.json' | wc -l) entries)"
  db="file://$cache"
fi

say "toolchain: $(go env GOVERSION)"
govulncheck -db "$db" ./...
