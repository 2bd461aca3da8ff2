# Sourced by .ci/run after postgres.sh: the catalog's PostgreSQL adapter needs PostGIS. When the server
# at SKYPORT_TEST_DATABASE_URL does not offer the extension, installs Debian's postgresql-<major>-postgis-3
# (extension files are picked up without a server restart).

psql_bin=$(command -v psql || ls /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -n 1)
have=$("$psql_bin" "$SKYPORT_TEST_DATABASE_URL" -Atqc "select count(*) from pg_available_extensions where name = 'postgis'")
if [ "$have" != "1" ]; then
  major=$("$psql_bin" "$SKYPORT_TEST_DATABASE_URL" -Atqc "show server_version_num" | cut -c1-2)
  echo "PostGIS missing: installing Debian's postgresql-${major}-postgis-3"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "postgresql-${major}-postgis-3" >/dev/null
fi
