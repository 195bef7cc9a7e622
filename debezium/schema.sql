-- The monolith's listings table as the legacy application created it: cryptic column names, one
-- quoted upper-case identifier, and internal columns that nobody outside the team should hear about.
-- Loaded once into database `monolith` by scripts/stack.sh (and by docker-compose.yml's postgres).
-- The replication settings (role, REPLICA IDENTITY, publication) live in replication.sql.

CREATE TABLE IF NOT EXISTS public.listings (
  lst_id        BIGSERIAL PRIMARY KEY,
  -- Status code: 'A' active, 'U' unpublished, 'D' draft, 'S' sold out.
  "LST_STAT_CD" CHAR(1)        NOT NULL DEFAULT 'D' CHECK ("LST_STAT_CD" IN ('A', 'U', 'D', 'S')),
  lst_ttl       VARCHAR(200)   NOT NULL,
  -- Long free text; rows over ~2 kB are moved out of line (TOAST), which matters for
  -- REPLICA IDENTITY DEFAULT (see debezium/README.md).
  description   TEXT,
  prc_amt       NUMERIC(12, 2) NOT NULL,
  crncy_cd      CHAR(3)        NOT NULL DEFAULT 'EUR',
  prod_stk_qty  INTEGER        NOT NULL DEFAULT 0,
  ctgy_cd       VARCHAR(12)    NOT NULL DEFAULT 'MISC',
  upd_ts        TIMESTAMPTZ    NOT NULL DEFAULT now(),
  -- Internal bookkeeping: never worth a notification.
  audit_usr_id  INTEGER,
  sync_flg      BOOLEAN        NOT NULL DEFAULT false,
  etl_batch_id  BIGINT,
  srch_vec      TSVECTOR
);

CREATE INDEX IF NOT EXISTS listings_srch_vec_idx ON public.listings USING gin (srch_vec);
