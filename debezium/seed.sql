-- 1,200 deterministic listings (no random(), no now()): the same rows on every machine.
-- Every 10th listing has a description over 8 kB of poorly compressible text, so PostgreSQL stores
-- it out of line (TOAST) and REPLICA IDENTITY DEFAULT behaviour can be observed.
-- A few hand-written rows at the top are ones a sales person would recognise; listing 7's title
-- is mrkdwn-dangerous on purpose (renderers must escape it).

INSERT INTO public.listings
  (lst_id, "LST_STAT_CD", lst_ttl, description, prc_amt, crncy_cd, prod_stk_qty, ctgy_cd, upd_ts,
   audit_usr_id, sync_flg, etl_batch_id)
SELECT
  i,
  (ARRAY['A', 'A', 'A', 'U', 'D', 'S'])[1 + i % 6],
  CASE i
    WHEN 1 THEN 'Ergonomic Office Chair, Mesh Back'
    WHEN 2 THEN 'Espresso Machine Barista Pro 15 bar'
    WHEN 3 THEN 'Trail Running Shoes Size 42'
    WHEN 4 THEN 'Solid Oak Dining Table 180 cm'
    WHEN 5 THEN 'Noise-Cancelling Headphones (Refurbished)'
    WHEN 6 THEN 'Kids'' Bicycle 16" with Stabilisers'
    WHEN 7 THEN '<!channel> & <b>Flash sale</b> *50% off* <https://evil.example|click>'
    ELSE (ARRAY['Vintage', 'Compact', 'Premium', 'Handmade', 'Wireless', 'Stainless', 'Organic', 'Foldable'])[1 + i % 8]
      || ' '
      || (ARRAY['Desk Lamp', 'Backpack', 'Coffee Grinder', 'Yoga Mat', 'Bookshelf', 'Kettle', 'Tent', 'Watch',
                'Sofa Cushion', 'Blender', 'Rain Jacket', 'Camera Bag'])[1 + (i / 8) % 12]
      || ' #' || i
  END,
  CASE
    WHEN i % 10 = 0 THEN
      'Full specification sheet for listing ' || i || E'.\n'
      || (SELECT string_agg('batch ' || g || ' checksum ' || md5(i || ':' || g), E'\n')
            FROM generate_series(1, 240) AS g)
    ELSE 'Good condition. Ships within 2 working days. Listing ' || i || '.'
  END,
  round(4.99 + ((i * 7919) % 250000) / 100.0, 2),
  (ARRAY['EUR', 'EUR', 'USD', 'GBP'])[1 + i % 4],
  (i * 37) % 250,
  (ARRAY['HOME', 'SPORT', 'TECH', 'KIDS', 'FASHION'])[1 + i % 5],
  timestamptz '2025-01-06 09:00:00+00' + i * interval '7 minutes',
  1000 + i % 17,
  i % 3 = 0,
  20250106 * 100 + i % 50
FROM generate_series(1, 1200) AS i;

UPDATE public.listings SET srch_vec = to_tsvector('english', lst_ttl || ' ' || left(description, 200));

SELECT setval(pg_get_serial_sequence('public.listings', 'lst_id'), (SELECT max(lst_id) FROM public.listings));
