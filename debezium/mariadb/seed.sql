-- 1,200 deterministic listings (no RAND(), no NOW()): the same rows on every machine, the same
-- titles, prices, stock and status codes as the PostgreSQL seed (debezium/seed.sql), so one rules
-- file reads alike on both sources. Listing 7's title is mrkdwn-dangerous on purpose.
-- Loaded once by scripts/stack.sh into the stack's MariaDB, database `monolith`.

-- MariaDB stops recursive CTEs at 1,000 rows by default.
SET SESSION max_recursive_iterations = 10000;

INSERT INTO listings
  (lst_id, lst_stat_cd, lst_ttl, description, prc_amt, crncy_cd, stk_qty, ctgy_cd, upd_dt, crt_ts,
   avail_dt, pickup_tm, model_yr, audit_usr_id, sync_flg, etl_batch_id, ship_flags, tags, weight_kg,
   checksum_bin, attrs_json)
WITH RECURSIVE seq (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < 1200)
SELECT
  i,
  ELT(1 + i % 6, 'A', 'A', 'A', 'U', 'D', 'S'),
  CASE i
    WHEN 1 THEN 'Ergonomic Office Chair, Mesh Back'
    WHEN 2 THEN 'Espresso Machine Barista Pro 15 bar'
    WHEN 3 THEN 'Trail Running Shoes Size 42'
    WHEN 4 THEN 'Solid Oak Dining Table 180 cm'
    WHEN 5 THEN 'Noise-Cancelling Headphones (Refurbished)'
    WHEN 6 THEN 'Kids'' Bicycle 16" with Stabilisers'
    WHEN 7 THEN '<!channel> & <b>Flash sale</b> *50% off* <https://evil.example|click>'
    ELSE CONCAT(
      ELT(1 + i % 8, 'Vintage', 'Compact', 'Premium', 'Handmade', 'Wireless', 'Stainless', 'Organic', 'Foldable'),
      ' ',
      ELT(1 + (i DIV 8) % 12, 'Desk Lamp', 'Backpack', 'Coffee Grinder', 'Yoga Mat', 'Bookshelf', 'Kettle',
          'Tent', 'Watch', 'Sofa Cushion', 'Blender', 'Rain Jacket', 'Camera Bag'),
      ' #', i)
  END,
  CONCAT('Good condition. Ships within 2 working days. Listing ', i, '.'),
  ROUND(4.99 + ((i * 7919) % 250000) / 100.0, 2),
  ELT(1 + i % 4, 'EUR', 'EUR', 'USD', 'GBP'),
  (i * 37) % 250,
  ELT(1 + i % 5, 'HOME', 'SPORT', 'TECH', 'KIDS', 'FASHION'),
  TIMESTAMP '2025-01-06 09:00:00' + INTERVAL (i * 7) MINUTE,
  TIMESTAMP '2025-01-06 09:00:00' + INTERVAL (i * 7) MINUTE,
  DATE '2025-02-01' + INTERVAL (i % 60) DAY,
  MAKETIME(8 + i % 10, (i * 5) % 60, 0),
  2015 + i % 11,
  1000 + i % 17,
  i % 3 = 0,
  20250106 * 100 + i % 50,
  i % 1024,
  ELT(1 + i % 4, '', 'new', 'sale,eco', 'bundle'),
  ROUND(0.5 + (i % 40) / 4, 2),
  UNHEX(MD5(CONCAT('listing:', i))),
  JSON_OBJECT('warehouse', ELT(1 + i % 3, 'BER', 'AMS', 'MAD'), 'aisle', i % 30, 'fragile', i % 7 = 0)
FROM seq;
