-- The monolith's listings table as a MySQL/MariaDB monolith would have it: the same listing, MySQL
-- dialect, and column names of its own (lst_stat_cd, not "LST_STAT_CD"; stk_qty, not prod_stk_qty),
-- which the rules file maps (source.columns, see debezium/README.md). Loaded once into database
-- `monolith` of the stack's own MariaDB by scripts/stack.sh; grants live in grants.sql.
--
-- Types chosen to cover what the MySQL family sends through Debezium (see debezium/README.md):
-- DECIMAL, DATETIME(6) and TIMESTAMP, TINYINT(1), ENUM, SET, TEXT, JSON, DATE, TIME, YEAR, BIT,
-- BIGINT UNSIGNED, DOUBLE, VARBINARY.

CREATE TABLE IF NOT EXISTS listings (
  lst_id        BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  -- Status code: 'A' active, 'U' unpublished, 'D' draft, 'S' sold out (an ENUM in this dialect).
  lst_stat_cd   ENUM('A', 'U', 'D', 'S') NOT NULL DEFAULT 'D',
  lst_ttl       VARCHAR(200)   NOT NULL,
  -- Long free text (TEXT: up to 64 kB). InnoDB stores long values off-page, but with
  -- binlog_row_image=FULL the binlog always carries them whole, unlike PostgreSQL's TOAST.
  description   TEXT,
  prc_amt       DECIMAL(12, 2) NOT NULL,
  crncy_cd      CHAR(3)        NOT NULL DEFAULT 'EUR',
  stk_qty       INT            NOT NULL DEFAULT 0,
  ctgy_cd       VARCHAR(12)    NOT NULL DEFAULT 'MISC',
  -- Wall-clock time of the last edit (DATETIME has no zone) and the row's own TIMESTAMP (UTC inside).
  upd_dt        DATETIME(6)    NOT NULL DEFAULT '2025-01-06 09:00:00',
  crt_ts        TIMESTAMP      NOT NULL DEFAULT '2025-01-06 09:00:00',
  avail_dt      DATE,
  pickup_tm     TIME,
  model_yr      YEAR,
  -- Internal bookkeeping: never worth a notification.
  audit_usr_id  INT,
  sync_flg      TINYINT(1)     NOT NULL DEFAULT 0,
  etl_batch_id  BIGINT UNSIGNED,
  ship_flags    BIT(10)        NOT NULL DEFAULT b'0',
  tags          SET('new', 'sale', 'eco', 'bundle') NOT NULL DEFAULT '',
  weight_kg     DOUBLE,
  checksum_bin  VARBINARY(16),
  attrs_json    JSON
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
