-- Every domain of the database with its resolved base type and whether any
-- level of its chain is NOT NULL. The chain is walked through
-- pg_type.typbasetype; its deepest row carries the base type and the NOT NULL
-- of every level. The driver applies this to domain-typed columns itself, so
-- the column query stays free of CTEs and can run in parallel workers.
WITH RECURSIVE domain_chain AS (
    SELECT t.oid AS domain_oid, t.oid AS type_oid, t.typbasetype, t.typtypmod, t.typnotnull, 1 AS depth
    FROM pg_catalog.pg_type AS t
    WHERE t.typtype = 'd'
  UNION ALL
    SELECT chain.domain_oid, base.oid, base.typbasetype, base.typtypmod,
           chain.typnotnull OR base.typnotnull, chain.depth + 1
    FROM domain_chain AS chain
    JOIN pg_catalog.pg_type AS base ON base.oid = chain.typbasetype
    WHERE base.typtype = 'd' AND chain.depth < 32
)
SELECT DISTINCT ON (domain_oid)
       domain_oid::int8 AS domain_oid,
       format_type(typbasetype, typtypmod) AS base_type,
       typnotnull AS not_null
FROM domain_chain
ORDER BY domain_oid, depth DESC
