-- sidep_apply_items, set-based (issue 3: PostgreSQL was the bottleneck at ~4-7k items/s). Same contract and
-- the same decisions as 002_apply_items.sql: one call per batch, one row out per item in arrival order with
-- (submission_id, item_index, status, result_id, version, state, patient_id, replay); idempotent on
-- (submission_id, item_index); versioning by resultedAt, then INGEST sequence, then item index.
--
-- How the batch is applied:
--   1. the batch is loaded once (jsonb_to_recordset) into a session temp table, and each item is classified
--      with one join against submission_items (replay) and results (key already known):
--        r  replay: (submission_id, item_index) already recorded, its first outcome is returned;
--        x  rejected: recorded with its errors (one INSERT for all);
--        f  fast: a result key seen for the first time, once in the batch: stored (or cancelled) as version 1
--           with INSERT ... SELECT into results, result_versions and submission_items;
--        s  slow: the key already exists, or comes more than once in the batch, or the (submission_id,
--           item_index) is repeated: the careful per-item path of 002, in arrival order.
--      Fast and slow items never share a key, so applying the fast ones first gives the same decisions as
--      applying everything in arrival order.
--   2. patients are resolved set-wise for every item to apply, fast or slow: each distinct identity once
--      (the INS when present, else the normalised traits), with the rules of 002 (same INS, same patient; a
--      traits-only patient gets the INS; no INS: same traits, the patient without INS first, else the
--      oldest). A patient's contact is written only when it has none (every result row keeps its own sealed
--      contact, which is what the reads use): no UPDATE of the patient row per item any more.
--
-- Locks (deadlock freedom): every statement that locks or inserts several rows does so in key order
-- (patients by ins / traits / patient_id, results by (lab_id, accession, loinc)), so two processor
-- transactions wait for one another instead of deadlocking. Existing results rows are locked FOR NO KEY
-- UPDATE, not FOR UPDATE: the following UPDATE changes no key column, and FOR NO KEY UPDATE does not
-- conflict with the FOR KEY SHARE lock that the certifier's foreign-key checks (certificates,
-- certificate_skips -> results) take. With FOR UPDATE, 002 deadlocked against the certifier: the
-- processor held result A FOR UPDATE and waited for B while the certifier's insert held B FOR KEY SHARE
-- and waited for A.

CREATE OR REPLACE FUNCTION sidep_apply_items(batch jsonb)
RETURNS TABLE (submission_id text, item_index integer, status text, result_id uuid, version integer, state text, patient_id bigint, replay boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  r         record;
  cur       results%ROWTYPE;
  v_n       bigint;
  v_fast    bigint;
  v_status  text;
  v_rid     uuid;
  v_version integer;
  v_state   text;
  v_pid     bigint;
BEGIN
  -- Session-scoped staging tables, created once per connection; ON COMMIT DELETE ROWS empties them (in
  -- place, without catalog changes) at the end of every transaction that used them.
  IF to_regclass('pg_temp.sidep_apply_b4') IS NULL THEN
    CREATE TEMP TABLE sidep_apply_b4 (
      ord integer NOT NULL, kind "char" NOT NULL,
      s text NOT NULL, i integer NOT NULL, err jsonb,
      lab text, acc text, loinc text, ts timestamptz, seq bigint, st text, h bytea,
      ident text, ins text, fn text, gn text, bd date, sex text, family text, given text[],
      ps text, kid text, tt text, res text, sa timestamptz, dep text, reg text, co text, rec jsonb, cs bytea,
      -- the outcome when known at load time (replay, rejected, fast); slow items get theirs in sidep_apply_o4
      o_status text, o_result_id uuid, o_version integer, o_state text, o_patient_id bigint
    ) ON COMMIT DELETE ROWS;
    CREATE TEMP TABLE sidep_apply_p4 (
      ident text PRIMARY KEY, ins text, fn text, gn text, bd date, sex text, family text, given text[],
      cs bytea, first_ord integer, patient_id bigint, how "char", claim_of bigint
    ) ON COMMIT DELETE ROWS;
    CREATE TEMP TABLE sidep_apply_o4 (
      ord integer PRIMARY KEY, status text, result_id uuid, version integer, state text, patient_id bigint, replay boolean
    ) ON COMMIT DELETE ROWS;
  ELSE
    -- a second call in one transaction (never done by postgres-apply.ts, but allowed)
    DELETE FROM sidep_apply_b4; DELETE FROM sidep_apply_p4; DELETE FROM sidep_apply_o4;
  END IF;

  -- 1. load (no join, no sort: the batch as it came) and classify; only the rare items are updated
  INSERT INTO sidep_apply_b4 (ord, kind, s, i, err, lab, acc, loinc, ts, seq, st, h, ident, ins, fn, gn, bd, sex, family, given,
                              ps, kid, tt, res, sa, dep, reg, co, rec, cs, o_status, o_result_id, o_version, o_state)
  SELECT x.ord, CASE WHEN x.err IS NULL THEN 'f' ELSE 'x' END::"char",
         x.s, x.i, x.err, x.lab, x.acc, x.loinc, x.ts, x.seq, x.st, decode(x.h, 'hex'),
         CASE WHEN x.err IS NOT NULL THEN NULL
              WHEN p.ins IS NOT NULL THEN 'I' || p.ins
              ELSE concat_ws(chr(31), 'T', p.fn, p.gn, p.bd::text, p.sex) END,
         p.ins, p.fn, p.gn, p.bd, p.sex, p.family, p.given,
         x.ps, x.kid, x.tt, x.res, x.sa, x.dep, x.reg, x.co, x.rec, decode(x.cs, 'base64'),
         CASE WHEN x.err IS NOT NULL THEN 'rejected' WHEN x.st = 'cancelled' THEN 'cancelled' ELSE 'stored' END,
         CASE WHEN x.err IS NULL THEN gen_random_uuid() END,
         CASE WHEN x.err IS NULL THEN 1 END,
         CASE WHEN x.err IS NOT NULL THEN NULL WHEN x.st IN ('cancelled', 'corrected') THEN x.st ELSE 'final' END
    FROM ROWS FROM (jsonb_to_recordset(batch) AS (
           s text, i integer, err jsonb, lab text, acc text, loinc text, ts timestamptz, seq bigint, st text, h text, p jsonb,
           ps text, kid text, tt text, res text, sa timestamptz, dep text, reg text, co text, rec jsonb, cs text))
         WITH ORDINALITY AS x(s, i, err, lab, acc, loinc, ts, seq, st, h, p, ps, kid, tt, res, sa, dep, reg, co, rec, cs, ord)
    LEFT JOIN LATERAL jsonb_to_record(x.p) AS p(ins text, fn text, gn text, bd date, sex text, family text, given text[]) ON true;

  -- replay: already recorded under (submission_id, item_index), its first outcome is returned
  UPDATE sidep_apply_b4 b
     SET kind = 'r', o_status = si.status, o_result_id = si.result_id, o_version = si.version, o_state = k.state, o_patient_id = k.patient_id
    FROM submission_items si LEFT JOIN results k ON k.result_id = si.result_id
   WHERE si.submission_id = b.s AND si.item_index = b.i;
  -- The statements below join the staging tables only through an index or a hash (they have no statistics,
  -- so the planner's row estimates are guesses), and touch only the rare rows.
  -- the same (submission_id, item_index) twice in the batch: the later ones replay the first (slow path)
  IF EXISTS (SELECT 1 FROM sidep_apply_b4 b GROUP BY b.s, b.i HAVING count(*) > 1) THEN
    UPDATE sidep_apply_b4 b SET kind = 's'
     WHERE b.kind <> 'r' AND b.ord NOT IN (SELECT min(d.ord) FROM sidep_apply_b4 d GROUP BY d.s, d.i);
  END IF;
  -- a key more than once in the batch: every item of that key in arrival order (slow path); a key already in
  -- results is found by the fast INSERT's ON CONFLICT and goes to the slow path too
  IF EXISTS (SELECT 1 FROM sidep_apply_b4 b WHERE b.kind IN ('f', 's') AND b.err IS NULL
              GROUP BY b.lab, b.acc, b.loinc HAVING count(*) > 1) THEN
    UPDATE sidep_apply_b4 b SET kind = 's'
     WHERE b.kind = 'f' AND (b.lab, b.acc, b.loinc) IN (
             SELECT d.lab, d.acc, d.loinc FROM sidep_apply_b4 d WHERE d.kind IN ('f', 's') AND d.err IS NULL
              GROUP BY d.lab, d.acc, d.loinc HAVING count(*) > 1);
  END IF;

  -- 2. rejected items, in one statement
  INSERT INTO submission_items (submission_id, item_index, status, error)
  SELECT b.s, b.i, 'rejected', b.err FROM sidep_apply_b4 b WHERE b.kind = 'x' ORDER BY b.s, b.i;

  -- 3. patients: one row per distinct identity among the items to apply (traits of its first item, that
  --    item's sealed contact), resolved against patients in the same statement; a new patient's id is drawn
  --    here (how = 'n'), 'e' is a known patient, 'c' an INS whose traits match a patient without INS (claim)
  INSERT INTO sidep_apply_p4 (ident, ins, fn, gn, bd, sex, family, given, cs, first_ord, patient_id, how, claim_of)
  SELECT d.ident, d.ins, d.fn, d.gn, d.bd, d.sex, d.family, d.given, d.cs, d.ord,
         CASE WHEN e.patient_id IS NOT NULL THEN e.patient_id
              WHEN d.ins IS NULL AND t.patient_id IS NOT NULL THEN t.patient_id
              ELSE nextval(pg_get_serial_sequence('patients', 'patient_id')) END,
         CASE WHEN e.patient_id IS NOT NULL OR (d.ins IS NULL AND t.patient_id IS NOT NULL) THEN 'e'
              WHEN t.without_ins THEN 'c' ELSE 'n' END::"char",
         CASE WHEN e.patient_id IS NULL AND d.ins IS NOT NULL AND t.without_ins THEN t.patient_id END
    FROM (SELECT DISTINCT ON (b.ident) b.ident, b.ins, b.fn, b.gn, b.bd, b.sex, b.family, b.given, b.cs, b.ord
            FROM sidep_apply_b4 b WHERE b.kind IN ('f', 's') AND b.err IS NULL ORDER BY b.ident, b.ord) d
    LEFT JOIN patients e ON d.ins IS NOT NULL AND e.ins = d.ins
    -- the patient without INS for those traits (at most one: patients_traits_without_ins)
    LEFT JOIN LATERAL (SELECT p.patient_id FROM patients p
                        WHERE e.patient_id IS NULL AND p.ins IS NULL
                          AND p.family_norm = d.fn AND p.given_norm = d.gn AND p.birth_date = d.bd AND p.sex = d.sex
                        LIMIT 1) t0 ON true
    -- else, for an item without INS, the oldest patient with those traits
    LEFT JOIN LATERAL (SELECT p.patient_id FROM patients p
                        WHERE d.ins IS NULL AND t0.patient_id IS NULL
                          AND p.family_norm = d.fn AND p.given_norm = d.gn AND p.birth_date = d.bd AND p.sex = d.sex
                        ORDER BY p.patient_id LIMIT 1) t1 ON true
    CROSS JOIN LATERAL (SELECT coalesce(t0.patient_id, t1.patient_id) AS patient_id, t0.patient_id IS NOT NULL AS without_ins) t;

  -- 3a. a patient known so far only by traits gets the INS: the first INS to arrive for those traits claims
  --     it (locks in patient_id order); the others, and a claim lost to a concurrent transaction, are new
  IF EXISTS (SELECT 1 FROM sidep_apply_p4 q WHERE q.how = 'c') THEN
    PERFORM 1 FROM patients p WHERE p.patient_id IN (SELECT q.claim_of FROM sidep_apply_p4 q WHERE q.how = 'c')
     ORDER BY p.patient_id FOR UPDATE;
    WITH c AS (
      SELECT DISTINCT ON (q.claim_of) q.ident, q.ins, q.cs, q.claim_of FROM sidep_apply_p4 q WHERE q.how = 'c'
       ORDER BY q.claim_of, q.first_ord
    ), claimed AS (
      UPDATE patients p SET ins = c.ins, contact_sealed = coalesce(p.contact_sealed, c.cs), updated_at = now()
        FROM c WHERE p.patient_id = c.claim_of AND p.ins IS NULL
      RETURNING p.patient_id, c.ident
    )
    UPDATE sidep_apply_p4 q SET patient_id = claimed.patient_id, how = 'e' FROM claimed WHERE q.ident = claimed.ident;
    UPDATE sidep_apply_p4 q SET how = 'n' WHERE q.how = 'c';
  END IF;

  -- 3b. no INS and no patient with those traits yet, but a new INS patient of this batch with the same traits:
  --     that patient (the first to arrive), as if the items had been applied one by one
  IF EXISTS (SELECT 1 FROM sidep_apply_p4 q WHERE q.how = 'n' GROUP BY q.fn, q.gn, q.bd, q.sex
              HAVING bool_or(q.ins IS NULL) AND bool_or(q.ins IS NOT NULL)) THEN
    UPDATE sidep_apply_p4 t SET patient_id = w.patient_id, how = 'e'
      FROM (SELECT DISTINCT ON (q.fn, q.gn, q.bd, q.sex) q.fn, q.gn, q.bd, q.sex, q.patient_id
              FROM sidep_apply_p4 q WHERE q.ins IS NOT NULL AND q.how = 'n' ORDER BY q.fn, q.gn, q.bd, q.sex, q.first_ord) w
     WHERE t.ins IS NULL AND t.how = 'n' AND t.fn = w.fn AND t.gn = w.gn AND t.bd = w.bd AND t.sex = w.sex;
  END IF;

  -- 3c. new patients, in identity order; one inserted meanwhile by a concurrent transaction is that one
  SELECT count(*) INTO v_fast FROM sidep_apply_p4 q WHERE q.how = 'n';
  IF v_fast > 0 THEN
    INSERT INTO patients (patient_id, ins, family_norm, given_norm, birth_date, sex, family, given, contact_sealed)
    SELECT q.patient_id, q.ins, q.fn, q.gn, q.bd, q.sex, q.family, q.given, q.cs
      FROM sidep_apply_p4 q WHERE q.how = 'n' ORDER BY q.ident
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    IF v_n < v_fast THEN
      UPDATE sidep_apply_p4 q SET how = 'e', patient_id = coalesce(
               (SELECT p.patient_id FROM patients p WHERE q.ins IS NOT NULL AND p.ins = q.ins),
               (SELECT p.patient_id FROM patients p
                 WHERE q.ins IS NULL AND p.family_norm = q.fn AND p.given_norm = q.gn AND p.birth_date = q.bd AND p.sex = q.sex
                 ORDER BY (p.ins IS NULL) DESC, p.patient_id LIMIT 1))
       WHERE q.how = 'n' AND NOT EXISTS (SELECT 1 FROM patients p WHERE p.patient_id = q.patient_id);
    END IF;
  END IF;

  -- 3d. a known patient without contact gets the one of its first item in the batch (locks in patient_id order)
  IF EXISTS (SELECT 1 FROM sidep_apply_p4 q WHERE q.how = 'e' AND q.cs IS NOT NULL) THEN
    PERFORM 1 FROM patients p
     WHERE p.contact_sealed IS NULL AND p.patient_id IN (SELECT q.patient_id FROM sidep_apply_p4 q WHERE q.how = 'e' AND q.cs IS NOT NULL)
     ORDER BY p.patient_id FOR NO KEY UPDATE;
    UPDATE patients p SET contact_sealed = c.cs, updated_at = now()
      FROM (SELECT DISTINCT ON (q.patient_id) q.patient_id, q.cs FROM sidep_apply_p4 q
             WHERE q.how = 'e' AND q.cs IS NOT NULL ORDER BY q.patient_id, q.first_ord) c
     WHERE p.patient_id = c.patient_id AND p.contact_sealed IS NULL;
  END IF;

  -- 4. fast items: new keys, once in the batch, inserted in key order; a key already in results (or inserted
  --    meanwhile by a concurrent transaction) is not inserted and its item goes to the slow path
  SELECT count(*) INTO v_fast FROM sidep_apply_b4 b WHERE b.kind = 'f';
  IF v_fast > 0 THEN
    INSERT INTO results (result_id, lab_id, accession, loinc, version, state, content_hash, resulted_at, arrival_seq, arrival_index,
                         patient_id, pseudonym, key_id, test_type, result, sampled_at, department, region, country, record, contact_sealed)
    SELECT b.o_result_id, b.lab, b.acc, b.loinc, 1, b.o_state, b.h, b.ts, b.seq, b.i,
           q.patient_id, b.ps, b.kid, b.tt, b.res, b.sa, b.dep, b.reg, b.co, b.rec, b.cs
      FROM sidep_apply_b4 b JOIN sidep_apply_p4 q ON q.ident = b.ident
     WHERE b.kind = 'f'
     ORDER BY b.lab, b.acc, b.loinc
    ON CONFLICT (lab_id, accession, loinc) DO NOTHING;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    IF v_n < v_fast THEN
      UPDATE sidep_apply_b4 b SET kind = 's'
       WHERE b.kind = 'f' AND NOT EXISTS (SELECT 1 FROM results k WHERE k.result_id = b.o_result_id);
    END IF;
    INSERT INTO result_versions (result_id, version, state, submission_id, item_index, content_hash, resulted_at, record, contact_sealed)
    SELECT b.o_result_id, 1, b.o_state, b.s, b.i, b.h, b.ts, b.rec, b.cs FROM sidep_apply_b4 b WHERE b.kind = 'f';
    INSERT INTO submission_items (submission_id, item_index, status, result_id, version)
    SELECT b.s, b.i, b.o_status, b.o_result_id, 1 FROM sidep_apply_b4 b WHERE b.kind = 'f';
  END IF;

  -- 5. slow items, in arrival order, as in 002 (with the patient resolved above)
  IF EXISTS (SELECT 1 FROM sidep_apply_b4 b WHERE b.kind = 's') THEN
    -- the existing rows they touch, locked in key order before any of them is changed
    PERFORM 1 FROM results k
     WHERE (k.lab_id, k.accession, k.loinc) IN (SELECT b.lab, b.acc, b.loinc FROM sidep_apply_b4 b WHERE b.kind = 's' AND b.err IS NULL)
     ORDER BY k.lab_id, k.accession, k.loinc FOR NO KEY UPDATE OF k;

    FOR r IN SELECT b.*, q.patient_id AS pid FROM sidep_apply_b4 b LEFT JOIN sidep_apply_p4 q ON q.ident = b.ident
              WHERE b.kind = 's' ORDER BY b.ord LOOP
      SELECT si.status, si.result_id, si.version INTO v_status, v_rid, v_version
        FROM submission_items si WHERE si.submission_id = r.s AND si.item_index = r.i;
      IF FOUND THEN
        SELECT k.state, k.patient_id INTO v_state, v_pid FROM results k WHERE k.result_id = v_rid;
        INSERT INTO sidep_apply_o4 VALUES (r.ord, v_status, v_rid, v_version, v_state, v_pid, true);
        CONTINUE;
      END IF;

      IF r.err IS NOT NULL THEN
        INSERT INTO submission_items (submission_id, item_index, status, error) VALUES (r.s, r.i, 'rejected', r.err);
        INSERT INTO sidep_apply_o4 VALUES (r.ord, 'rejected', NULL, NULL, NULL, NULL, false);
        CONTINUE;
      END IF;

      SELECT * INTO cur FROM results k
       WHERE k.lab_id = r.lab AND k.accession = r.acc AND k.loinc = r.loinc FOR NO KEY UPDATE;
      IF NOT FOUND THEN
        v_version := 1;
        v_state := CASE r.st WHEN 'cancelled' THEN 'cancelled' WHEN 'corrected' THEN 'corrected' ELSE 'final' END;
        INSERT INTO results (lab_id, accession, loinc, version, state, content_hash, resulted_at, arrival_seq, arrival_index,
                             patient_id, pseudonym, key_id, test_type, result, sampled_at, department, region, country,
                             record, contact_sealed)
        VALUES (r.lab, r.acc, r.loinc, 1, v_state, r.h, r.ts, r.seq, r.i,
                r.pid, r.ps, r.kid, r.tt, r.res, r.sa, r.dep, r.reg, r.co, r.rec, r.cs)
        RETURNING results.result_id INTO v_rid;
        v_status := CASE v_state WHEN 'cancelled' THEN 'cancelled' ELSE 'stored' END;
      ELSIF cur.content_hash = r.h THEN
        v_status := 'duplicate'; v_rid := cur.result_id; v_version := cur.version; v_state := cur.state;
      ELSIF (r.ts, r.seq, r.i) < (cur.resulted_at, cur.arrival_seq, cur.arrival_index) THEN
        v_status := 'superseded'; v_rid := cur.result_id; v_version := cur.version; v_state := cur.state;
      ELSE
        v_version := cur.version + 1;
        v_state := CASE r.st WHEN 'cancelled' THEN 'cancelled' ELSE 'corrected' END;
        UPDATE results k SET version = v_version, state = v_state, content_hash = r.h, resulted_at = r.ts,
               arrival_seq = r.seq, arrival_index = r.i, patient_id = r.pid, pseudonym = r.ps,
               key_id = r.kid, test_type = r.tt, result = r.res, sampled_at = r.sa,
               department = r.dep, region = r.reg, country = r.co, record = r.rec,
               contact_sealed = r.cs, updated_at = now()
         WHERE k.result_id = cur.result_id;
        v_rid := cur.result_id;
        v_status := CASE v_state WHEN 'cancelled' THEN 'cancelled' ELSE 'corrected' END;
      END IF;

      IF v_status IN ('stored', 'corrected', 'cancelled') THEN
        INSERT INTO result_versions (result_id, version, state, submission_id, item_index, content_hash, resulted_at, record, contact_sealed)
        VALUES (v_rid, v_version, v_state, r.s, r.i, r.h, r.ts, r.rec, r.cs);
      END IF;
      INSERT INTO submission_items (submission_id, item_index, status, result_id, version)
      VALUES (r.s, r.i, v_status, v_rid, v_version);
      INSERT INTO sidep_apply_o4 VALUES (r.ord, v_status, v_rid, v_version, v_state, r.pid, false);
    END LOOP;
  END IF;

  -- 6. one row per item, in arrival order
  RETURN QUERY
  SELECT b.s, b.i,
         coalesce(o.status, b.o_status),
         CASE WHEN o.ord IS NULL THEN b.o_result_id ELSE o.result_id END,
         CASE WHEN o.ord IS NULL THEN b.o_version ELSE o.version END,
         CASE WHEN o.ord IS NULL THEN b.o_state ELSE o.state END,
         CASE WHEN o.ord IS NOT NULL THEN o.patient_id WHEN b.kind = 'f' THEN q.patient_id ELSE b.o_patient_id END,
         coalesce(o.replay, b.kind = 'r')
    FROM sidep_apply_b4 b
    LEFT JOIN sidep_apply_o4 o ON o.ord = b.ord
    LEFT JOIN sidep_apply_p4 q ON q.ident = b.ident AND b.kind = 'f'
   ORDER BY b.ord;
END $$;
