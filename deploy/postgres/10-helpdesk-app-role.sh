#!/bin/sh
# Runs once, when the PostgreSQL volume is initialised: the login role the app uses at run time.
# It owns nothing and is not a superuser, so row-level security binds it; the owner role
# (POSTGRES_USER) runs the migrations and grants it data rights.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v app_password="$HELPDESK_APP_DB_PASSWORD" <<'SQL'
CREATE ROLE helpdesk_app LOGIN PASSWORD :'app_password';
SQL
