SELECT table_name, view_definition
FROM `{dataset}`.INFORMATION_SCHEMA.VIEWS
