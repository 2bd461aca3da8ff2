# Sourced by .ci/run: exports SKYPORT_TEST_DATABASE_URL, pointing at the machine's PostgreSQL when one
# answers on 127.0.0.1:5432, or at a throwaway cluster started here (stopped when the run exits).
# Installs Debian's postgresql package if no server binaries are present.
# SKYPORT_CI_THROWAWAY_PG=1 forces the throwaway cluster (to test this path).

if [ -n "${SKYPORT_TEST_DATABASE_URL:-}" ]; then
  return 0
fi
if [ -z "${SKYPORT_CI_THROWAWAY_PG:-}" ] && command -v psql >/dev/null && psql "postgres://postgres@127.0.0.1:5432/postgres" -Atqc 'select 1' >/dev/null 2>&1; then
  export SKYPORT_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres"
  return 0
fi

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then
  echo "no PostgreSQL binaries: installing Debian's postgresql"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi

pg_dir=$(mktemp -d /tmp/skyport-ci-pg.XXXXXX)
pg_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
run_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ "$(id -u)" = 0 ]; then chown postgres "$pg_dir"; fi
run_pg "$pg_bin/initdb" -D "$pg_dir/data" -U postgres -A trust >/dev/null
run_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/log" -w \
  -o "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
trap 'run_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$pg_dir"' EXIT
export SKYPORT_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:${pg_port}/postgres"
echo "started a throwaway PostgreSQL on port $pg_port"
