#!/usr/bin/env bash
# Makes this machine ready for revhub, idempotently: PostgreSQL 15 running on 127.0.0.1:5432 with
# trust auth for user postgres (started if stopped, installed from Debian's packages if missing),
# and the temporal CLI (v1.5.1), stripe-mock and staticcheck installed with `go install`.
# Source it (". scripts/setup.sh") to get $(go env GOPATH)/bin on PATH, or run it.
set -euo pipefail

say() { printf 'setup: %s\n' "$*" >&2; }

TEMPORAL_CLI_VERSION=v1.5.1
STRIPE_MOCK_VERSION=v0.203.0
STATICCHECK_VERSION=v0.8.2

# Honour go.mod's toolchain line (a patched Go release, fetched once through the module proxy) even
# where the installed Go says GOTOOLCHAIN=local in its go.env.
export GOTOOLCHAIN="${GOTOOLCHAIN:-auto}"

GOBIN_DIR="$(go env GOPATH)/bin"
case ":$PATH:" in *":$GOBIN_DIR:"*) ;; *) export PATH="$GOBIN_DIR:$PATH" ;; esac

pg_ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
pg_login() { psql -h 127.0.0.1 -p 5432 -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1; }

ensure_postgres() {
  if pg_ready && pg_login; then return 0; fi
  if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
    say "PostgreSQL is not installed: installing it from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq postgresql >/dev/null
  fi
  local ver
  ver="$(ls /etc/postgresql | sort -V | tail -n1)"
  if ! pg_ready; then
    say "starting PostgreSQL $ver"
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start || pg_ctlcluster "$ver" main start
  fi
  for _ in $(seq 1 60); do pg_ready && break; sleep 0.5; done
  if ! pg_login; then
    say "allowing trust auth for postgres on loopback (local development only)"
    local hba="/etc/postgresql/$ver/main/pg_hba.conf"
    sed -i -E 's/^(host\s+all\s+all\s+127\.0\.0\.1\/32\s+)\S+/\1trust/; s/^(host\s+all\s+all\s+::1\/128\s+)\S+/\1trust/' "$hba"
    grep -qE '^host\s+all\s+all\s+127\.0\.0\.1/32\s+trust' "$hba" || echo 'host all all 127.0.0.1/32 trust' >> "$hba"
    pg_ctlcluster --skip-systemctl-redirect "$ver" main reload || pg_ctlcluster "$ver" main reload
    sleep 1
  fi
  pg_login || { say "cannot log in to PostgreSQL on 127.0.0.1:5432 as postgres"; return 1; }
}

ensure_go_tool() { # name module version
  local name=$1 module=$2 version=$3 have=""
  if [ -x "$GOBIN_DIR/$name" ]; then
    have="$(go version -m "$GOBIN_DIR/$name" 2>/dev/null | awk '$1=="mod"{print $3; exit}')"
  fi
  [ "$have" = "$version" ] && return 0
  say "installing $name $version (go install $module@$version)"
  go install "$module@$version"
}

ensure_postgres
ensure_go_tool temporal github.com/temporalio/cli/cmd/temporal "$TEMPORAL_CLI_VERSION"
ensure_go_tool stripe-mock github.com/stripe/stripe-mock "$STRIPE_MOCK_VERSION"
ensure_go_tool staticcheck honnef.co/go/tools/cmd/staticcheck "$STATICCHECK_VERSION"
say "ready: $(go env GOVERSION), PostgreSQL on 127.0.0.1:5432, $(temporal --version 2>/dev/null | head -n1), stripe-mock, staticcheck"
