SELECT table_name, option_value
FROM `{dataset}`.INFORMATION_SCHEMA.TABLE_OPTIONS
WHERE option_name = 'description'
