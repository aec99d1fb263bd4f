-- The certificates' and skips' foreign keys to results replaced by one statement-level cascade on results
-- (issue 3: the certifier's PostgreSQL CPU per result). A foreign key checks every inserted row with an SPI
-- query (SELECT 1 FROM results WHERE result_id = $1 FOR KEY SHARE), queued as an AFTER ROW trigger event: with
-- auto_explain in bench/dcc-store.ts, 10,000 such checks for 10,000 certificates and skips. The certifier
-- (sidep_certifier_record, 005/007) is the only writer of both tables and inserts only for result ids that
-- its step 1 found and locked FOR NO KEY UPDATE until commit (a missing one raises no_data_found and nothing
-- is written): the check can never fail there, and the lock it asked for is already held in a stronger mode.
--
-- What the foreign key also did, and still happens:
--   * ON DELETE CASCADE: a DELETE of results rows (the retention purge, DESIGN.md "Privacy and security")
--     deletes their certificates and skips, now by sidep_results_cascade below, in the same statement's
--     AFTER trigger, from the deleted rows' transition table (one DELETE per table per statement, not per row);
--   * a certificate never outlives its result, concurrently either: DELETE locks the results row FOR UPDATE,
--     which conflicts with the certifier's FOR NO KEY UPDATE, so a certifier either finds the row gone
--     (no_data_found) or commits its certificate before the DELETE's trigger looks (READ COMMITTED: the
--     trigger's DELETE takes a new snapshot).
-- Decisions, locks, lock order and the revocation guarantee of 005/007 do not change.

ALTER TABLE certificates DROP CONSTRAINT IF EXISTS certificates_result_id_fkey;
ALTER TABLE certificate_skips DROP CONSTRAINT IF EXISTS certificate_skips_result_id_fkey;

CREATE OR REPLACE FUNCTION sidep_results_cascade() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM certificates c USING gone g WHERE c.result_id = g.result_id;
  DELETE FROM certificate_skips s USING gone g WHERE s.result_id = g.result_id;
  RETURN NULL;
END $$;

CREATE TRIGGER results_cascade_certificates AFTER DELETE ON results
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION sidep_results_cascade();
