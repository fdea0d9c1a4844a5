-- The floor under `sinergi import beneficiaries` on PostgreSQL (BENCHMARKS.md, "Register import"):
-- 100,000 new people and their CREATED case events written by PostgreSQL alone, from a temporary
-- table, with no client, no check and no JSON: (1) into the register as it is (its unique and
-- secondary indexes, its foreign keys to the region table); (2) with the eight secondary indexes
-- and the two foreign keys dropped first and rebuilt afterwards, as an offline bulk load would.
-- Everything is rolled back. Run on a migrated database:
--   psql -h 127.0.0.1 -U postgres -d bench20k -f bench/sql/import-floor.sql
\timing on
CREATE TEMP TABLE src AS SELECT gen_random_uuid() AS id, lpad((6472011504000000+g)::text,16,'0') AS nik, lpad((6472010101400000+g)::text,16,'0') AS kk_number, true AS is_head_of_family, 'Warga '||g AS full_name, date '1990-02-15' AS birth_date, 'MALE' AS sex, NULL::text AS phone, 'Jl' AS address, '6472' AS regency_code, '647201' AS district_code, NULL::text AS village_code, 3 AS decile, 'DTSEN' AS decile_source, date '2026-09-30' AS decile_assessed_on, 'ACTIVE' AS status, false AS is_demo, 1 AS version, 'DINSOS' AS created_by_agency, 'import' AS created_by_client, now() AS created_at, now() AS updated_at FROM generate_series(1,100000) g;
\echo (1) the register as it is
BEGIN;
INSERT INTO beneficiary (id, nik, kk_number, is_head_of_family, full_name, birth_date, sex, phone, address, regency_code, district_code, village_code, decile, decile_source, decile_assessed_on, status, is_demo, version, created_by_agency, created_by_client, created_at, updated_at) SELECT * FROM src;
INSERT INTO case_event (beneficiary_id, business_id, entity_type, entity_id, action, from_status, to_status, changed_fields, reason, actor_agency, actor_client, regency_code, occurred_at) SELECT id, NULL, 'BENEFICIARY', id, 'CREATED', NULL, NULL, '*', NULL, 'DINSOS', 'import', regency_code, now() FROM src;
ROLLBACK;
\echo (2) secondary indexes and foreign keys dropped and rebuilt
BEGIN;
ALTER TABLE beneficiary DROP CONSTRAINT fk_beneficiary_district_code, DROP CONSTRAINT fk_beneficiary_regency_code;
DROP INDEX ix_beneficiary_created_at_id, ix_beneficiary_decile_id, ix_beneficiary_district_code, ix_beneficiary_full_name_id, ix_beneficiary_kk_number, ix_beneficiary_regency_code, ix_beneficiary_status, ix_beneficiary_updated_at_id;
INSERT INTO beneficiary (id, nik, kk_number, is_head_of_family, full_name, birth_date, sex, phone, address, regency_code, district_code, village_code, decile, decile_source, decile_assessed_on, status, is_demo, version, created_by_agency, created_by_client, created_at, updated_at) SELECT * FROM src;
INSERT INTO case_event (beneficiary_id, business_id, entity_type, entity_id, action, from_status, to_status, changed_fields, reason, actor_agency, actor_client, regency_code, occurred_at) SELECT id, NULL, 'BENEFICIARY', id, 'CREATED', NULL, NULL, '*', NULL, 'DINSOS', 'import', regency_code, now() FROM src;
CREATE INDEX ix_beneficiary_created_at_id ON beneficiary (created_at, id);
CREATE INDEX ix_beneficiary_decile_id ON beneficiary (decile, id);
CREATE INDEX ix_beneficiary_district_code ON beneficiary (district_code);
CREATE INDEX ix_beneficiary_full_name_id ON beneficiary (full_name, id);
CREATE INDEX ix_beneficiary_kk_number ON beneficiary (kk_number);
CREATE INDEX ix_beneficiary_regency_code ON beneficiary (regency_code);
CREATE INDEX ix_beneficiary_status ON beneficiary (status);
CREATE INDEX ix_beneficiary_updated_at_id ON beneficiary (updated_at, id);
ALTER TABLE beneficiary ADD CONSTRAINT fk_beneficiary_district_code FOREIGN KEY (district_code) REFERENCES region(code) ON DELETE RESTRICT, ADD CONSTRAINT fk_beneficiary_regency_code FOREIGN KEY (regency_code) REFERENCES region(code) ON DELETE RESTRICT;
ROLLBACK;
