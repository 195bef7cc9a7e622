-- The database-side account Debezium's MariaDB/MySQL connector needs, idempotent (scripts/stack.sh
-- applies it on every `up`). Run as an administrator. See debezium/README.md for why each one is needed.
-- The password comes from the session variable @debezium_password (scripts/stack.sh sets it; the
-- local development default is `debezium`).

SET @debezium_password = COALESCE(@debezium_password, 'debezium');
SET @create = CONCAT('CREATE USER IF NOT EXISTS ''debezium''@''%'' IDENTIFIED BY ', QUOTE(@debezium_password));
PREPARE s FROM @create;
EXECUTE s;
DEALLOCATE PREPARE s;
SET @alter = CONCAT('ALTER USER ''debezium''@''%'' IDENTIFIED BY ', QUOTE(@debezium_password));
PREPARE s FROM @alter;
EXECUTE s;
DEALLOCATE PREPARE s;

-- REPLICATION SLAVE: read the binlog as a replica would. REPLICATION CLIENT (BINLOG MONITOR in
-- MariaDB 10.5+): SHOW MASTER STATUS / SHOW BINARY LOGS, to know where to start. RELOAD: FLUSH
-- TABLES for a consistent snapshot. SHOW DATABASES: find the included databases during the snapshot.
GRANT RELOAD, SHOW DATABASES, REPLICATION SLAVE, BINLOG MONITOR ON *.* TO 'debezium'@'%';
-- SELECT on the captured table only, for the initial snapshot. No write privilege anywhere.
GRANT SELECT ON monolith.listings TO 'debezium'@'%';
