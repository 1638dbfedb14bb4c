-- Columns of the given relations ($1: relation oids) and of every relation
-- of the given schemas ($2: namespace oids), dropped columns and partitions
-- excluded (a partition has its parent's columns). Rows come in no
-- particular order: the driver sorts each relation's columns by attnum and
-- resolves domain types with domains.sql. Without an ORDER BY or a CTE,
-- Postgres can run most of the query in parallel workers.
--
-- pg_get_expr is the costliest call. Catalogs repeat the same defaults
-- (now(), false, 0) across thousands of columns, so each distinct expression
-- tree without a column reference ({VAR) is printed once, with relation 0,
-- which prints a Var-free tree exactly as its own relation would. Other
-- trees (generated columns) are printed per column.
SELECT c.oid::int8 AS table_oid,
       a.attnum::int4 AS attnum,
       a.attname AS name,
       a.atttypid::int8 AS type_oid,
       format_type(a.atttypid, a.atttypmod) AS data_type,
       a.attnotnull AS not_null,
       CASE WHEN shared.tree IS NOT NULL THEN shared.expression
            ELSE pg_get_expr(d.adbin, d.adrelid) END AS default_expression,
       description.description AS comment,
       a.attidentity::text AS identity,
       a.attgenerated::text AS generated,
       primary_key.attnum IS NOT NULL AS primary_key
FROM pg_catalog.pg_class AS c
JOIN pg_catalog.pg_attribute AS a ON a.attrelid = c.oid
LEFT JOIN pg_catalog.pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN (
    SELECT distinct_trees.tree, pg_get_expr(sample.adbin, 0) AS expression
    FROM (SELECT tree_default.adbin::text AS tree, min(tree_default.oid) AS sample_oid
          FROM pg_catalog.pg_attrdef AS tree_default
          JOIN pg_catalog.pg_class AS owner ON owner.oid = tree_default.adrelid
          WHERE (owner.oid = ANY ($1::int8[]::oid[]) OR owner.relnamespace = ANY ($2::int8[]::oid[]))
            AND tree_default.adbin::text NOT LIKE '%{VAR %'
          GROUP BY 1) AS distinct_trees
    JOIN pg_catalog.pg_attrdef AS sample ON sample.oid = distinct_trees.sample_oid
) AS shared ON shared.tree = d.adbin::text
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
