-- Columns of one table or view, in the shape of columns.sql; used when the
-- bulk query fails, to find the object that cannot be read.
SELECT ?1, info.cid, info.name, info.type, info."notnull", info.dflt_value, info.pk, info.hidden
FROM pragma_table_xinfo(?1) AS info
ORDER BY info.cid
