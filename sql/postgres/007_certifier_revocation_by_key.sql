-- sidep_certifier_record (005) with its revocation pass through the certificates primary key.
--
-- In 005 the pass joined certificates to the batch's array of results (unnest) by hash: the planner, with no
-- estimate for the array, read the whole certificates table for every batch that held a correction or a
-- cancellation (found with auto_explain during `npm run bench` at 4,500 results/s: 117 passes, 20 s of a
-- 40 s run, each 75-170 ms at 120,000 certificates and growing with the table) while the batch's results rows
-- were locked, so the processor's corrections waited on it. Now the certificates to look at are named by
-- result id (`= ANY` on the primary key's first column): an index probe per revisable result, whatever the
-- table's size. Same decisions, locks and ordering guarantee as 005.

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
