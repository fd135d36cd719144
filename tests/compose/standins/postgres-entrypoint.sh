#!/bin/bash
# PostgreSQL 15 as the postgres:15 image starts it: on an empty data folder, a cluster
# whose superuser is POSTGRES_USER with POSTGRES_PASSWORD (scram-sha-256 over TCP)
# and a database POSTGRES_DB; then the server on every address.
set -euo pipefail
BIN=/usr/lib/postgresql/15/bin
PGDATA=/var/lib/postgresql/data
: "${POSTGRES_USER:=postgres}" "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required}"
: "${POSTGRES_DB:=$POSTGRES_USER}"

if [[ ! -s $PGDATA/PG_VERSION ]]; then
	pwfile=$(mktemp)
	printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
	"$BIN/initdb" -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pwfile" -E UTF8 \
		--auth-local=trust --auth-host=scram-sha-256 >/dev/null
	rm -f "$pwfile"
	echo 'host all all all scram-sha-256' >>"$PGDATA/pg_hba.conf"
	"$BIN/pg_ctl" -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
	if [[ $POSTGRES_DB != postgres ]]; then
		# psql interpolates :"db" (a quoted identifier) only in what it reads.
		echo 'CREATE DATABASE :"db"' | "$BIN/psql" -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" \
			-d postgres -v db="$POSTGRES_DB" >/dev/null
	fi
	"$BIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
fi
exec "$BIN/postgres" -D "$PGDATA" -c listen_addresses='*'
