-- Proposed indexes on cases (core: an Alembic revision + Case.__table_args__).
-- The organisation's cases newest first without sorting them (case list without a status filter):
CREATE INDEX IF NOT EXISTS ix_cases_org_id ON cases (org_id, id);
-- Search by prisoner number (today: a scan of the organisation's cases):
CREATE INDEX IF NOT EXISTS ix_cases_org_prisoner_number ON cases (org_id, prisoner_number);
