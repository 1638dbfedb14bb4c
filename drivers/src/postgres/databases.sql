-- Databases the role may connect to, templates excluded.
SELECT d.oid::int8 AS oid, d.datname AS name
FROM pg_catalog.pg_database AS d
WHERE d.datallowconn
  AND NOT d.datistemplate
  AND has_database_privilege(d.datname, 'CONNECT')
ORDER BY d.datname
