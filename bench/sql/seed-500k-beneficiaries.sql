-- 500,000 synthetic beneficiaries for the list-plan measurement (bench/sql/list-plans.sql), bulk
-- loaded in SQL, not through the API. Run on a freshly migrated, empty PostgreSQL database.
INSERT INTO beneficiary (id, nik, kk_number, is_head_of_family, full_name, birth_date, sex, regency_code, district_code, decile, decile_source, decile_assessed_on, status, is_demo, version, created_by_agency, created_by_client, created_at, updated_at)
SELECT gen_random_uuid(), lpad(i::text,16,'0'), lpad(i::text,16,'9'), false, 'Orang ' || i, date '1980-01-01' + (i % 10000),
  CASE WHEN i%2=0 THEN 'MALE' ELSE 'FEMALE' END,
  (ARRAY['6401','6402','6403','6474','6407','6408','6409','6411','6471','6472'])[1 + i % 10], '640101', 1 + i % 10, 'DTKS', date '2026-01-01', 'ACTIVE', true, 1, 'DINSOS', 'bench',
  timestamptz '2026-01-01' + (i || ' seconds')::interval, now()
FROM generate_series(1,500000) i;
ANALYZE beneficiary;
