SELECT table_name, column_name, ordinal_position, is_nullable, data_type, column_default
FROM `{dataset}`.INFORMATION_SCHEMA.COLUMNS
ORDER BY table_name, ordinal_position
