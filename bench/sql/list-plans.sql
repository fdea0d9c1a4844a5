-- The statements a beneficiaries list page runs (first page, a page after a cursor, a
-- region-bounded token, a DESC orderBy), with their plans and execution times.
\timing off
EXPLAIN (ANALYZE, COSTS OFF, TIMING ON, SUMMARY ON) SELECT * FROM beneficiary ORDER BY created_at ASC, id ASC LIMIT 51;
EXPLAIN (ANALYZE, COSTS OFF, TIMING ON, SUMMARY ON) SELECT * FROM beneficiary WHERE (created_at, id) > (timestamptz '2026-01-04', '00000000-0000-0000-0000-000000000000'::uuid) ORDER BY created_at ASC, id ASC LIMIT 51;
EXPLAIN (ANALYZE, COSTS OFF, TIMING ON, SUMMARY ON) SELECT * FROM beneficiary WHERE regency_code IN ('6472') ORDER BY created_at ASC, id ASC LIMIT 51;
EXPLAIN (ANALYZE, COSTS OFF, TIMING ON, SUMMARY ON) SELECT * FROM beneficiary ORDER BY full_name DESC, id DESC LIMIT 51;
