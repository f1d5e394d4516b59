#!/bin/sh
# Runs once, when the PostgreSQL volume is initialised: Authentik's own role and database, so the
# identity provider shares the server but none of the Helpdesk's tables.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v authentik_password="$AUTHENTIK_DB_PASSWORD" <<'SQL'
CREATE ROLE authentik LOGIN PASSWORD :'authentik_password';
CREATE DATABASE authentik OWNER authentik;
SQL
