#!/usr/bin/env bash
# Runs revhub's whole test suite on this machine: makes it ready (scripts/setup.sh), checks
# formatting, vet, staticcheck and govulncheck (scripts/vulncheck.sh), starts one real Temporal dev
# server for the run, and runs every Go test (unit, workflow, integration against real PostgreSQL
# and Temporal, connector tests against the fakes and stripe-mock). Extra arguments go to `go test`
# (e.g. -run TestX).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=setup.sh
. scripts/setup.sh

step() { printf '\n== %s\n' "$*"; }

step "gofmt"
unformatted="$(find . -name '*.go' -not -path './.git/*' -not -path './.revhub/*' -print0 | xargs -0 gofmt -l)"
if [ -n "$unformatted" ]; then echo "gofmt would change:"; echo "$unformatted"; exit 1; fi

step "go vet"
go vet ./...

step "staticcheck"
staticcheck ./...

step "govulncheck"
scripts/vulncheck.sh

step "Temporal dev server for the tests"
free_port() {
  local p
  for p in $(seq "$1" $(( $1 + 200 ))); do
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
  done
  return 1
}
TPORT="$(free_port 17233)"
TDIR="$(mktemp -d)"
temporal server start-dev --ip 127.0.0.1 --port "$TPORT" --headless --log-level error \
  --search-attribute RevhubEntity=Keyword --search-attribute RevhubPeriod=Keyword \
  --search-attribute RevhubCustomer=Keyword --search-attribute RevhubStep=Keyword \
  --search-attribute RevhubReconStatus=Keyword >"$TDIR/temporal.log" 2>&1 &
TPID=$!
cleanup() { kill "$TPID" 2>/dev/null || true; wait "$TPID" 2>/dev/null || true; rm -rf "$TDIR"; }
trap cleanup EXIT
for _ in $(seq 1 120); do
  (exec 3<>"/dev/tcp/127.0.0.1/$TPORT") 2>/dev/null && break
  kill -0 "$TPID" 2>/dev/null || { cat "$TDIR/temporal.log"; echo "temporal dev server died"; exit 1; }
  sleep 0.5
done
export REVHUB_TEST_TEMPORAL_ADDRESS="127.0.0.1:$TPORT"
export REVHUB_TEST_DATABASE_URL="${REVHUB_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
echo "temporal on $REVHUB_TEST_TEMPORAL_ADDRESS, PostgreSQL at 127.0.0.1:5432"

step "go test"
go test -count=1 -timeout 18m "$@" ./...
