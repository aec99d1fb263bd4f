-- The certifier's write of a batch in one call (issue 3: PostgreSQL was ~65 % of a core at 3,500 results/s
-- and the certifier's share of it significant). Before: a read of what each result currently is (results ⋈
-- labs with two EXISTS probes per result), then BEGIN, one advisory lock per result, INSERT certificates
-- (⋈ results), INSERT certificate_skips (⋈ results), UPDATE certificates (⋈ results), COMMIT: seven round
-- trips, and per result an advisory lock, a results probe per statement and a FOR KEY SHARE row lock written
-- by each foreign-key check. Now one statement, sidep_certifier_record, and per result one row lock.
--
-- Ordering guarantee (pipeline/certifier/certificate-store.ts): an older version's certificate insert must
-- never commit after a newer version's revocation pass has looked. Step 1 locks the batch's results rows FOR
-- NO KEY UPDATE, in (lab_id, accession, loinc) order, and reads their current version and state from the
-- locked rows; the lock is held to commit. So:
--   * while a certifier holds a result's row, the processor cannot commit a newer version of it (it locks
--     the row FOR NO KEY UPDATE too) and no other certifier can write that result's certificates: the
--     version read in step 1 stays current until commit, and the certificate inserted for it is committed
--     before any newer version exists;
--   * a certifier that comes after (for the newer version) waits for the row, and its revocation pass runs
--     in a later statement, whose snapshot (READ COMMITTED: one per statement in a VOLATILE plpgsql function)
--     includes that certificate.
-- Deadlock freedom: the processor (004/006) locks results rows FOR NO KEY UPDATE in the same key order,
-- before any other results lock; the certifier locks nothing the processor waits for other than those rows
-- (certificates and certificate_skips rows of a result are only written under that result's row lock). The
-- foreign-key checks of the inserts ask FOR KEY SHARE on rows this transaction already holds in a stronger
-- mode: no wait, no second tuple write. Two certifiers on overlapping batches queue on the first common row.
--
-- The current version and state come from step 1's locked rows (arrays), so the inserts and the revocation
-- pass join small in-memory sets instead of probing results again; the revocation pass runs only for the
-- results that can have something to revoke (version > 1: a correction, or cancelled), which is rarely any.
-- A result id that results does not hold raises no_data_found (P0002) and writes nothing: the caller
-- dead-letters that message (RESULT_UNKNOWN), as it did when the read before signing found it missing.

-- The revocation pass names the certificates to look at by result id (`= ANY` on the primary key's first
-- column): an index probe per revisable result. Joined by hash to the batch's array instead, the planner (no
-- estimate for an array) read the whole certificates table for every batch holding a correction or a
-- cancellation, while the batch's results rows were locked (auto_explain during `npm run bench` at 4,500
-- results/s: 75-170 ms per batch at 120,000 certificates, growing with the table; now ~1 ms).
--
-- (Written as one migration: the steps measured one by one during issue 3 never reached a deployed database.)

-- ci_hash (SHA-256 of ci) is UNIQUE, which makes ci unique too, and no query looks a certificate up by ci
-- (pipeline/gateway/certificate-reads.ts: by result, by ci_hash, revoked ones by exp): its unique index was
-- one more random-key B-tree insert per certificate.
ALTER TABLE certificates DROP CONSTRAINT IF EXISTS certificates_ci_key;

-- The certificates' and skips' foreign keys to results replaced by one statement-level cascade on results
-- (issue 3: the certifier's PostgreSQL CPU per result). A foreign key checks every inserted row with an SPI
-- query (SELECT 1 FROM results WHERE result_id = $1 FOR KEY SHARE), queued as an AFTER ROW trigger event: with
-- auto_explain in bench/dcc-store.ts, 10,000 such checks for 10,000 certificates and skips. The certifier
-- (sidep_certifier_record, below) is the only writer of both tables and inserts only for result ids that
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
-- 

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

CREATE OR REPLACE FUNCTION sidep_certifier_record(
  p_result_ids uuid[],
  c_result_id uuid[], c_version integer[], c_lab_id text[], c_ci text[], c_ci_hash bytea[], c_hc1 text[],
  c_kid text[], c_iat float8[], c_exp float8[],
  s_result_id uuid[], s_version integer[], s_reason text[])
RETURNS TABLE (issued integer, skipped integer, superseded integer, cancelled integer)
LANGUAGE plpgsql AS $$
DECLARE
  v_id        uuid[];
  v_version   integer[];
  v_state     text[];
  v_revisable uuid[];
  v_unknown   integer;
BEGIN
  issued := 0; skipped := 0; superseded := 0; cancelled := 0;

  -- 1. lock the batch's results rows in key order; read the current version and state from them
  SELECT array_agg(l.result_id), array_agg(l.version), array_agg(l.state), array_agg(l.result_id) FILTER (WHERE l.version > 1 OR l.state = 'cancelled')
    INTO v_id, v_version, v_state, v_revisable
    FROM (SELECT r.result_id, r.version, r.state FROM results r WHERE r.result_id = ANY (p_result_ids)
           ORDER BY r.lab_id, r.accession, r.loinc FOR NO KEY UPDATE) l;
  v_unknown := (SELECT count(DISTINCT u) FROM unnest(p_result_ids) u) - coalesce(cardinality(v_id), 0);
  IF v_unknown > 0 THEN
    RAISE EXCEPTION USING ERRCODE = 'no_data_found', MESSAGE = format('%s result id(s) of the batch are not in results', v_unknown);
  END IF;

  -- 2. a certificate only for the version that is current, never for a cancelled one; once per version
  IF cardinality(c_result_id) > 0 THEN
    INSERT INTO certificates (result_id, version, lab_id, ci, ci_hash, hc1, kid, issued_at, exp)
    SELECT x.result_id, x.version, x.lab_id, x.ci, x.ci_hash, x.hc1, x.kid, to_timestamp(x.iat), to_timestamp(x.exp)
      FROM unnest(c_result_id, c_version, c_lab_id, c_ci, c_ci_hash, c_hc1, c_kid, c_iat, c_exp)
             AS x(result_id, version, lab_id, ci, ci_hash, hc1, kid, iat, exp)
      JOIN unnest(v_id, v_version, v_state) AS cur(result_id, version, state)
        ON cur.result_id = x.result_id AND cur.version = x.version AND cur.state <> 'cancelled'
    ON CONFLICT (result_id, version) DO NOTHING;
    GET DIAGNOSTICS issued = ROW_COUNT;
  END IF;

  -- 3. the versions that get none, and why
  IF cardinality(s_result_id) > 0 THEN
    INSERT INTO certificate_skips (result_id, version, reason)
    SELECT x.result_id, x.version, x.reason
      FROM unnest(s_result_id, s_version, s_reason) AS x(result_id, version, reason)
      JOIN unnest(v_id, v_version) AS cur(result_id, version) ON cur.result_id = x.result_id AND cur.version = x.version
    ON CONFLICT (result_id, version) DO NOTHING;
    GET DIAGNOSTICS skipped = ROW_COUNT;
  END IF;

  -- 4. revocation pass, from what results says (not the batch): older versions 'superseded', every
  --    certificate of a cancelled result 'cancelled'. A version-1 result that is not cancelled has none.
  IF v_revisable IS NOT NULL THEN
    WITH revoked AS (
      UPDATE certificates c
         SET revoked_at = now(), revoked_reason = CASE WHEN cur.state = 'cancelled' THEN 'cancelled' ELSE 'superseded' END
        FROM unnest(v_id, v_version, v_state) AS cur(result_id, version, state)
       -- the certificates of those results only, found through the primary key (result_id, version)
       WHERE c.result_id = ANY (v_revisable)
         AND (cur.version > 1 OR cur.state = 'cancelled')
         AND c.result_id = cur.result_id AND c.revoked_at IS NULL
         AND (c.version < cur.version OR cur.state = 'cancelled')
      RETURNING c.revoked_reason
    )
    SELECT count(*) FILTER (WHERE revoked_reason = 'superseded'), count(*) FILTER (WHERE revoked_reason = 'cancelled')
      INTO superseded, cancelled FROM revoked;
  END IF;
  RETURN NEXT;
END
$$;
