-- Version token of every relation of the given schemas ($1: namespace oids):
-- an md5 over the xmin of each catalog row the crawl reads for it. Any DDL
-- that changes what the crawl would return writes one of these rows, so an
-- equal token means the relation's metadata is unchanged.
--
-- Covered rows: the relation's pg_class row and its pg_attribute rows
-- (dropped ones included). For a column of a type created after initdb (oid
-- 16384 and up), that pg_type row, its schema and its base type (one domain
-- level). For the built-in types, one digest over all their pg_type and
-- pg_namespace rows, shared by every relation, because a superuser can rename
-- even these. Then pg_attrdef defaults, pg_description comments, pg_rewrite
-- rules (view definitions) with the pg_class and pg_attribute rows a view
-- depends on (a renamed table or column changes its printed definition), the
-- primary-key pg_index row, and pg_inherits with the parent's pg_class row.
WITH built_in_types AS (
    SELECT md5(string_agg(t.oid || ':' || t.xmin || ':' || n.xmin, ',' ORDER BY t.oid)) AS digest
    FROM pg_catalog.pg_type AS t
    JOIN pg_catalog.pg_namespace AS n ON n.oid = t.typnamespace
    WHERE t.oid < 16384
),
parents AS (
    SELECT h.inhrelid,
           string_agg(h.inhparent || ':' || h.xmin || ':' || parent.xmin, ',' ORDER BY h.inhparent) AS rows
    FROM pg_catalog.pg_inherits AS h
    JOIN pg_catalog.pg_class AS parent ON parent.oid = h.inhparent
    GROUP BY h.inhrelid
)
SELECT c.relnamespace::int8 AS namespace_oid,
       c.oid::int8 AS oid,
       c.relname AS name,
       md5(concat_ws('|',
           c.xmin::text,
           (SELECT digest FROM built_in_types),
           (SELECT string_agg(a.attnum || ':' || a.xmin
                              || CASE WHEN a.atttypid >= 16384::oid THEN
                                     (SELECT ':' || t.xmin || ':' || type_namespace.xmin
                                             || ':' || COALESCE(base.xmin::text, '')
                                        FROM pg_catalog.pg_type AS t
                                        JOIN pg_catalog.pg_namespace AS type_namespace
                                          ON type_namespace.oid = t.typnamespace
                                        LEFT JOIN pg_catalog.pg_type AS base ON base.oid = t.typbasetype
                                       WHERE t.oid = a.atttypid)
                                 ELSE '' END,
                              ',' ORDER BY a.attnum)
              FROM pg_catalog.pg_attribute AS a
             WHERE a.attrelid = c.oid AND a.attnum > 0),
           (SELECT string_agg(d.adnum || ':' || d.xmin, ',' ORDER BY d.adnum)
              FROM pg_catalog.pg_attrdef AS d
             WHERE d.adrelid = c.oid),
           (SELECT string_agg(description.objsubid || ':' || description.xmin, ',' ORDER BY description.objsubid)
              FROM pg_catalog.pg_description AS description
             WHERE description.objoid = c.oid
               AND description.classoid = 'pg_catalog.pg_class'::regclass),
           (SELECT string_agg(r.oid || ':' || r.xmin, ',' ORDER BY r.oid)
              FROM pg_catalog.pg_rewrite AS r
             WHERE r.ev_class = c.oid),
           (SELECT string_agg(dependency.refobjid || '.' || dependency.refobjsubid || ':' || referenced.xmin
                              || ':' || COALESCE(referenced_column.xmin::text, ''),
                              ',' ORDER BY dependency.refobjid, dependency.refobjsubid)
              FROM pg_catalog.pg_rewrite AS r
              JOIN pg_catalog.pg_depend AS dependency
                ON dependency.classid = 'pg_catalog.pg_rewrite'::regclass AND dependency.objid = r.oid
               AND dependency.refclassid = 'pg_catalog.pg_class'::regclass
              JOIN pg_catalog.pg_class AS referenced ON referenced.oid = dependency.refobjid
              LEFT JOIN pg_catalog.pg_attribute AS referenced_column
                ON referenced_column.attrelid = dependency.refobjid
               AND referenced_column.attnum = dependency.refobjsubid
             WHERE r.ev_class = c.oid AND dependency.refobjid <> c.oid),
           (SELECT string_agg(i.indexrelid || ':' || i.xmin, ',' ORDER BY i.indexrelid)
              FROM pg_catalog.pg_index AS i
             WHERE i.indrelid = c.oid AND i.indisprimary),
           parents.rows
       )) AS version
FROM pg_catalog.pg_class AS c
LEFT JOIN parents ON parents.inhrelid = c.oid
WHERE c.relnamespace = ANY ($1::int8[]::oid[])
  AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
ORDER BY c.relnamespace, c.relname
