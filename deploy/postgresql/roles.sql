-- Roles and privileges for Nuanliu on PostgreSQL (run as a superuser, connected to the
-- Nuanliu database):
--   psql -v db=nuanliu -v schema=nuanliu -v owner=nuanliu_owner -v app=nuanliu_app \
--        -d nuanliu -f deploy/postgresql/roles.sql
-- owner: owns the schema; `nuanliu db migrate` runs as it (nuanliu-migrate.service).
-- app:   what the API, the ingest workers and the scheduler log in as: reads and
--        writes rows, cannot create, alter or drop anything in the schema.
-- Passwords: ALTER ROLE ... PASSWORD '...' (or \password), kept in /etc/nuanliu/*.env.
-- Safe to run again (e.g. after adding a table by hand).

SELECT format('CREATE ROLE %I LOGIN', :'owner')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'owner') \gexec
SELECT format('CREATE ROLE %I LOGIN', :'app')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'app') \gexec

-- Nobody else connects or creates objects.
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
-- TEMPORARY: the readings insert stages a batch in a temporary table.
GRANT CONNECT, TEMPORARY ON DATABASE :"db" TO :"owner", :"app";

CREATE SCHEMA IF NOT EXISTS :"schema" AUTHORIZATION :"owner";
ALTER SCHEMA :"schema" OWNER TO :"owner";
REVOKE ALL ON SCHEMA :"schema" FROM PUBLIC;
GRANT USAGE ON SCHEMA :"schema" TO :"app";

-- Tables and sequences the migrations create later...
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA :"schema"
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA :"schema"
    GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO :"app";
-- ...and those that exist already.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA :"schema" TO :"app";
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA :"schema" TO :"app";

-- Both find the tables without ?schema= in the URL.
ALTER ROLE :"owner" SET search_path = :"schema";
ALTER ROLE :"app" SET search_path = :"schema";
-- A stuck transaction must not hold row locks (and vacuum) for ever.
ALTER ROLE :"app" SET idle_in_transaction_session_timeout = '10min';
