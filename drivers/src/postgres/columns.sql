-- Columns of the relations of one schema ($1: namespace oid; $2: the relation
-- oids to read) in attnum order, dropped columns and partitions excluded (a partition has its
-- parent's columns). For a domain column, base_type and the NOT NULL of the
-- whole domain chain are resolved by walking pg_type.typbasetype: the deepest
-- row of the chain carries the base type and the NOT NULL of every level.
WITH RECURSIVE domain_chain AS (
    SELECT t.oid AS domain_oid, t.oid AS type_oid, t.typbasetype, t.typtypmod, t.typnotnull, 1 AS depth
    FROM pg_catalog.pg_type AS t
    WHERE t.typtype = 'd'
  UNION ALL
    SELECT chain.domain_oid, base.oid, base.typbasetype, base.typtypmod,
           chain.typnotnull OR base.typnotnull, chain.depth + 1
    FROM domain_chain AS chain
    JOIN pg_catalog.pg_type AS base ON base.oid = chain.typbasetype
    WHERE base.typtype = 'd' AND chain.depth < 32
),
domains AS (
    SELECT DISTINCT ON (domain_oid)
           domain_oid,
           format_type(typbasetype, typtypmod) AS base_type,
           typnotnull AS not_null
    FROM domain_chain
    ORDER BY domain_oid, depth DESC
)
SELECT c.oid::int8 AS table_oid,
       a.attnum::int4 AS attnum,
       a.attname AS name,
       format_type(a.atttypid, a.atttypmod) AS data_type,
       domains.base_type,
       a.attnotnull OR COALESCE(domains.not_null, false) AS not_null,
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
LEFT JOIN domains ON domains.domain_oid = a.atttypid
WHERE c.relnamespace = $1::int8::oid
  AND c.oid = ANY ($2::int8[]::oid[])
  AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND NOT c.relispartition
  AND a.attnum > 0
  AND NOT a.attisdropped
ORDER BY c.oid, a.attnum
