-- Tables and views of the main schema, without SQLite's internal tables and
-- the shadow tables of virtual tables. One row per relation.
SELECT list.name, list.type, list.wr, list.strict, master.sql
FROM pragma_table_list AS list
JOIN sqlite_schema AS master ON master.name = list.name
WHERE list.schema = 'main'
  AND list.type IN ('table', 'view', 'virtual')
  AND list.name NOT LIKE 'sqlite\_%' ESCAPE '\'
ORDER BY list.name
