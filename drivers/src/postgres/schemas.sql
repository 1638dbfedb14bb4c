-- Schemas of the current database, system schemas excluded, with whether the
-- role may use them. pg_namespace is readable by every role, so a schema
-- without USAGE is still listed and reported unreadable, never missing.
SELECT n.oid::int8 AS oid,
       n.nspname AS name,
       obj_description(n.oid, 'pg_namespace') AS comment,
       has_schema_privilege(n.oid, 'USAGE') AS usable
FROM pg_catalog.pg_namespace AS n
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  AND n.nspname NOT LIKE 'pg\_temp\_%'
  AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'
ORDER BY n.nspname
