-- The database of the connection, with its oid.
SELECT d.oid::int8 AS oid, d.datname AS name
FROM pg_catalog.pg_database AS d
WHERE d.datname = current_database()
