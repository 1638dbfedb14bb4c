-- Generates a synthetic catalog of 10,000 relations and about 300,000
-- columns for the Postgres refresh benchmark: 20 schemas, each with 450
-- tables of 32 columns (defaults and comments on some), 20 views, 5
-- materialized views, and 5 partitioned tables of 4 partitions each.
-- One procedure call per schema: a single transaction for the whole catalog
-- would run out of lock slots (max_locks_per_transaction).
CREATE PROCEDURE pg_temp.generate_schema(schema_index int)
LANGUAGE plpgsql AS $generate$
DECLARE
    table_index int;
    column_index int;
    columns text;
    schema_name text;
BEGIN
        schema_name := format('bench_%s', lpad(schema_index::text, 2, '0'));
        EXECUTE format('CREATE SCHEMA %I', schema_name);
        EXECUTE format('COMMENT ON SCHEMA %I IS %L', schema_name, 'generated schema ' || schema_index);

        FOR table_index IN 1..450 LOOP
            columns := 'id bigint PRIMARY KEY';
            FOR column_index IN 2..32 LOOP
                columns := columns || format(', c%s %s', column_index,
                    CASE column_index % 6
                        WHEN 0 THEN 'integer DEFAULT 0'
                        WHEN 1 THEN 'text'
                        WHEN 2 THEN 'varchar(120) NOT NULL DEFAULT ''none'''
                        WHEN 3 THEN 'numeric(12,2)'
                        WHEN 4 THEN 'timestamptz DEFAULT now()'
                        ELSE 'boolean NOT NULL DEFAULT false'
                    END);
            END LOOP;
            EXECUTE format('CREATE TABLE %I.%I (%s)', schema_name, 't' || table_index, columns);
            IF table_index % 3 = 0 THEN
                EXECUTE format('COMMENT ON TABLE %I.%I IS %L', schema_name, 't' || table_index, 'table ' || table_index);
                EXECUTE format('COMMENT ON COLUMN %I.%I.c2 IS %L', schema_name, 't' || table_index, 'second column');
            END IF;
        END LOOP;

        FOR table_index IN 1..20 LOOP
            EXECUTE format('CREATE VIEW %I.%I AS SELECT id, c2, c3, c4, c6 FROM %I.%I WHERE c5',
                schema_name, 'v' || table_index, schema_name, 't' || table_index);
        END LOOP;

        FOR table_index IN 1..5 LOOP
            EXECUTE format('CREATE MATERIALIZED VIEW %I.%I AS SELECT c2, count(*) AS rows FROM %I.%I GROUP BY c2 WITH NO DATA',
                schema_name, 'mv' || table_index, schema_name, 't' || table_index);
        END LOOP;

        FOR table_index IN 1..5 LOOP
            EXECUTE format('CREATE TABLE %I.%I (happened_on date NOT NULL, kind text, amount numeric(12,2) DEFAULT 0) PARTITION BY RANGE (happened_on)',
                schema_name, 'p' || table_index);
            FOR column_index IN 1..4 LOOP
                EXECUTE format('CREATE TABLE %I.%I PARTITION OF %I.%I FOR VALUES FROM (%L) TO (%L)',
                    schema_name, 'p' || table_index || '_q' || column_index, schema_name, 'p' || table_index,
                    make_date(2024, column_index * 3 - 2, 1), make_date(2024 + (column_index / 4), (column_index * 3) % 12 + 1, 1));
            END LOOP;
        END LOOP;
END
$generate$;

CALL pg_temp.generate_schema(1);
CALL pg_temp.generate_schema(2);
CALL pg_temp.generate_schema(3);
CALL pg_temp.generate_schema(4);
CALL pg_temp.generate_schema(5);
CALL pg_temp.generate_schema(6);
CALL pg_temp.generate_schema(7);
CALL pg_temp.generate_schema(8);
CALL pg_temp.generate_schema(9);
CALL pg_temp.generate_schema(10);
CALL pg_temp.generate_schema(11);
CALL pg_temp.generate_schema(12);
CALL pg_temp.generate_schema(13);
CALL pg_temp.generate_schema(14);
CALL pg_temp.generate_schema(15);
CALL pg_temp.generate_schema(16);
CALL pg_temp.generate_schema(17);
CALL pg_temp.generate_schema(18);
CALL pg_temp.generate_schema(19);
CALL pg_temp.generate_schema(20);
