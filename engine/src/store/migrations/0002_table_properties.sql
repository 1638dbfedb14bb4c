-- Physical layout properties of a table (partitioning, clustering) as JSON
-- text, and the range of date-named shards folded into one logical table.
ALTER TABLE catalog_tables ADD COLUMN properties TEXT;
ALTER TABLE catalog_tables ADD COLUMN shard_first TEXT;
ALTER TABLE catalog_tables ADD COLUMN shard_last TEXT;
ALTER TABLE catalog_tables ADD COLUMN shard_count INTEGER;
