SELECT table_name, field_path, description
FROM `{dataset}`.INFORMATION_SCHEMA.COLUMN_FIELD_PATHS
WHERE description IS NOT NULL
