-- The given relations ($1: relation oids) and every relation of the given
-- schemas ($2: namespace oids):
-- tables, partitioned tables, partitions, views, materialized views and
-- foreign tables. Joins are by oid, never by name, so mixed-case twins stay
-- apart.
SELECT c.relnamespace::int8 AS namespace_oid,
       c.oid::int8 AS oid,
       c.relname AS name,
       c.relkind::text AS relkind,
       c.relispartition AS is_partition,
       obj_description(c.oid, 'pg_class') AS comment,
       CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END AS definition,
       parent.relname AS parent_name,
       parent_namespace.nspname AS parent_schema,
       CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END AS partition_bound
FROM pg_catalog.pg_class AS c
LEFT JOIN pg_catalog.pg_inherits AS inheritance
       ON c.relispartition AND inheritance.inhrelid = c.oid
LEFT JOIN pg_catalog.pg_class AS parent ON parent.oid = inheritance.inhparent
LEFT JOIN pg_catalog.pg_namespace AS parent_namespace ON parent_namespace.oid = parent.relnamespace
WHERE (c.oid = ANY ($1::int8[]::oid[]) OR c.relnamespace = ANY ($2::int8[]::oid[]))
  AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
ORDER BY c.relname
