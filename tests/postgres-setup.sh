#!/usr/bin/env bash
# Test set-up for the tests that run on PostgreSQL too (idempotent, called by `make test`): Debian's server
# and, when the tests run as root, the system user that runs the throw-away cluster (tests/pg.py);
# PostgreSQL refuses to run as root.
set -euo pipefail
PG_USER=hotline-pgtest
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo

if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  echo "installing system packages: postgresql"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends postgresql
fi

if [ "$(id -u)" = 0 ] && ! id -u "$PG_USER" >/dev/null 2>&1; then
  # No home, no shell: it only owns the temporary cluster directories of test runs.
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$PG_USER"
fi
