# Sourced by .ci/run (and usable by hand as root): start Debian's PostgreSQL cluster and create the
# test role and database; exports HIL_TEST_POSTGRES. Does nothing when HIL_TEST_POSTGRES is set.
if [ -z "${HIL_TEST_POSTGRES:-}" ] && command -v pg_lsclusters >/dev/null 2>&1; then
  cluster=$(pg_lsclusters --no-header | awk 'NR==1 {print $1" "$2}')
  if [ -z "$cluster" ]; then
    ver=$(ls /usr/lib/postgresql | sort -n | tail -1)
    pg_createcluster "$ver" main >/dev/null
    cluster="$ver main"
  fi
  pg_ctlcluster $cluster start 2>/dev/null || true
  port=$(pg_lsclusters --no-header | awk -v c="$cluster" '$1" "$2==c {print $3}')
  for _ in $(seq 1 30); do
    su postgres -c "psql -p $port -Atqc 'select 1'" >/dev/null 2>&1 && break
    sleep 1
  done
  su postgres -c "psql -p $port -qc \"do \\\$\\\$ begin if not exists (select from pg_roles where rolname='hil') then create role hil login password 'hil' createdb; end if; end \\\$\\\$;\"" >/dev/null
  su postgres -c "psql -p $port -Atqc \"select 1 from pg_database where datname='hil_test'\"" | grep -q 1 \
    || su postgres -c "createdb -p $port -O hil hil_test"
  export HIL_TEST_POSTGRES="postgres://hil:hil@127.0.0.1:$port/hil_test"
  echo "PostgreSQL for tests: $HIL_TEST_POSTGRES"
fi
