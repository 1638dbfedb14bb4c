-- Columns of the given relations ($1: relation oids) and of every relation
-- of the given schemas ($2: namespace oids), dropped columns and partitions
-- excluded (a partition has its parent's columns). Rows come in
-- no particular order: the driver sorts each relation's columns by attnum and
-- resolves domain types with domains.sql. Without an ORDER BY or a CTE,
-- Postgres can evaluate format_type and pg_get_expr, most of the query's
-- cost, in parallel workers.
SELECT c.oid::int8 AS table_oid,
       a.attnum::int4 AS attnum,
       a.attname AS name,
       a.atttypid::int8 AS type_oid,
       format_type(a.atttypid, a.atttypmod) AS data_type,
       a.attnotnull AS not_null,
       pg_get_expr(d.adbin, d.adrelid) AS default_expression,
       description.description AS comment,
       a.attidentity::text AS identity,
       a.attgenerated::text AS generated,
       primary_key.attnum IS NOT NULL AS primary_key
FROM pg_catalog.pg_class AS c
JOIN pg_catalog.pg_attribute AS a ON a.attrelid = c.oid
LEFT JOIN pg_catalog.pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN pg_catalog.pg_description AS description
       ON description.objoid = c.oid
      AND description.classoid = 'pg_catalog.pg_class'::regclass
      AND description.objsubid = a.attnum
LEFT JOIN (
    SELECT i.indrelid, unnest(i.indkey::int2[]) AS attnum
    FROM pg_catalog.pg_index AS i
    WHERE i.indisprimary
) AS primary_key ON primary_key.indrelid = c.oid AND primary_key.attnum = a.attnum
WHERE (c.oid = ANY ($1::int8[]::oid[]) OR c.relnamespace = ANY ($2::int8[]::oid[]))
  AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND NOT c.relispartition
  AND a.attnum > 0
  AND NOT a.attisdropped
