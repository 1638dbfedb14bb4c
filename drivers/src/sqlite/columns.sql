-- Columns of every table and view of the main schema in one query, in
-- column order. hidden: 0 ordinary, 1 hidden column of a virtual table,
-- 2 generated VIRTUAL, 3 generated STORED.
SELECT master.name, info.cid, info.name, info.type, info."notnull", info.dflt_value, info.pk, info.hidden
FROM sqlite_schema AS master
JOIN pragma_table_xinfo(master.name) AS info
WHERE master.type IN ('table', 'view')
  AND master.name NOT LIKE 'sqlite\_%' ESCAPE '\'
ORDER BY master.name, info.cid
