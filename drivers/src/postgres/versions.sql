-- Version token of every relation of one schema ($1: namespace oid): an md5
-- over the xmin of each catalog row the crawl reads for it. Any DDL that
-- changes what the crawl would return writes one of these rows, so an equal
-- token means the relation's metadata is unchanged. Covered rows: the
-- relation's pg_class row; its pg_attribute rows (dropped ones included) with
-- the pg_type row of each column type, that type's schema and its base type
-- (one domain level); pg_attrdef defaults; pg_description comments; pg_rewrite
-- rules (view definitions) with the pg_class and pg_attribute rows a view
-- depends on (a renamed table or column changes its printed definition); its
-- primary-key pg_index row; and pg_inherits with the parent's pg_class row.
SELECT c.oid::int8 AS oid,
       c.relname AS name,
       md5(concat_ws('|',
           c.xmin::text,
           (SELECT string_agg(a.attnum || ':' || a.xmin || ':' || t.xmin || ':' || type_namespace.xmin
                              || ':' || COALESCE(base.xmin::text, ''), ',' ORDER BY a.attnum)
              FROM pg_catalog.pg_attribute AS a
              JOIN pg_catalog.pg_type AS t ON t.oid = a.atttypid
              JOIN pg_catalog.pg_namespace AS type_namespace ON type_namespace.oid = t.typnamespace
              LEFT JOIN pg_catalog.pg_type AS base ON base.oid = t.typbasetype
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
           (SELECT string_agg(h.inhparent || ':' || h.xmin || ':' || parent.xmin, ',' ORDER BY h.inhparent)
              FROM pg_catalog.pg_inherits AS h
              JOIN pg_catalog.pg_class AS parent ON parent.oid = h.inhparent
             WHERE h.inhrelid = c.oid)
       )) AS version
FROM pg_catalog.pg_class AS c
WHERE c.relnamespace = $1::int8::oid
  AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
ORDER BY c.relname
