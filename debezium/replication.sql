-- Database-side settings Debezium needs, idempotent (scripts/stack.sh applies it on every `up`).
-- Run as the table owner or a superuser. See debezium/README.md for why each one is needed.
--
-- The replication role's password comes from the psql variable `debezium_password`
-- (psql -v debezium_password=...); the local development default is `debezium`.
\if :{?debezium_password}
\else
  \set debezium_password debezium
\endif

-- A login role that may open replication connections and read the table (for the snapshot).
SELECT format('CREATE ROLE debezium LOGIN REPLICATION PASSWORD %L', :'debezium_password')
  WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'debezium') \gexec
SELECT format('ALTER ROLE debezium LOGIN REPLICATION PASSWORD %L', :'debezium_password') \gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO debezium', current_database()) \gexec
GRANT USAGE ON SCHEMA public TO debezium;
GRANT SELECT ON public.listings TO debezium;

-- Full before images on UPDATE and DELETE (DEFAULT would send only the primary key).
ALTER TABLE public.listings REPLICA IDENTITY FULL;

-- The publication pgoutput reads. Created here by the table owner because CREATE PUBLICATION ...
-- FOR TABLE requires owning the table, and the debezium role must not own the monolith's tables.
-- The connector (publication.autocreate.mode=filtered) finds it and uses it as it is.
SELECT 'CREATE PUBLICATION listings_publication FOR TABLE public.listings'
  WHERE NOT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = 'listings_publication') \gexec
