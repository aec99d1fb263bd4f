-- sidep_apply_staged (issue 3: PostgreSQL was ~65% of a core at 3,600 results/s, ~80 µs of backend CPU per new
-- item). Same decisions, the same replay/idempotence on (submission_id, item_index) and the same lock order as
-- 004_apply_items_set_based.sql (see its header); what changed is what each item costs:
--
--   * input: the batch arrives by COPY (text format, PostgreSQL "COPY", section "Text Format") into a session
--     temp table, one line per item built by the worker (workers/pg-row.ts). COPY parses each column straight
--     into its type; 004 parsed the whole batch as one jsonb, then extracted every field by name and copied the
--     rows into a temp table. The worker also computes what 004 derived at load time (identity key, kind,
--     fast-path status and state) and a time-ordered result_id candidate (UUID version 7, RFC 9562 section 5.7),
--     so results and result_versions get their primary key entries appended at the right edge of the index
--     instead of random pages (a random uuid per row touched a random leaf of each).
--   * the identified record and the sealed contact are written once: results holds the current version's
--     (readers and tests read results.record); result_versions holds the record of the versions that were
--     replaced, moved there by the correction that replaced them. result_versions.record IS NULL means "this
--     is the current version, its record is results.record" (see the view result_version_records). Rows
--     written before 006 keep their copy in both; a reader using coalesce() sees the same thing.
--   * indexes no query needs: results_patient (no reader looks results up by patient; the patient portal or
--     the retention purge that will, adds the index it needs); patients_traits covered every patient although
--     patients without INS are already in the unique patients_traits_without_ins: it is now partial (with INS),
--     so each patient is in exactly one traits index.
--   * foreign keys whose check ran once per inserted row (an SPI query + a FOR KEY SHARE row lock, which
--     rewrites the referenced tuple's header and logs it): result_versions -> results and results -> labs /
--     patients. This function is the only writer of these tables and takes those ids from rows it has just
--     read, locked or inserted in the same transaction; labs are revoked (revoked_at), never deleted. The
--     certifier's foreign keys to results (003) stay.
--   * the replay check probes submission_items by index, once per distinct submission of the batch (a batch of
--     new submissions, the normal case, skips the per-item check), never by joining the batch to the table: the
--     staging table has no statistics, and the planner hashed the batch and read the whole of submission_items
--     (a sequential scan per batch, growing with the table).
--   * patients: "the oldest patient with those traits" is answered by the order of patients_traits_with_ins
--     (it ends with patient_id) instead of a sort per item; the INS uniqueness is a partial unique index, so a
--     patient known by traits only has no entry there (ON CONFLICT DO NOTHING without arbiter checks every
--     unique index, partial ones included: concurrent inserts of one INS still converge on one row). The
--     patients sequence is looked up once per call, not once per new patient.
--   * the record is json, not jsonb (PostgreSQL "JSON Types": json keeps the input text after a syntax check,
--     jsonb converts it to a binary form, slower to input): nothing reads inside it in SQL on a hot path
--     (lab-reads.ts returns the whole document; ->> and -> work on json too). COPY of a record: 5.0 -> 2.3 µs.
--     The worker already rejects what jsonb would refuse (unpaired \u surrogates), so ::jsonb still works.
-- Measured with bench:pg (PostgreSQL backend CPU per item): new items 80 -> 38 µs, dup10 69 -> 47, replay 41 -> 24.
--
-- (Written as one migration: the steps measured one by one during issue 3 never reached a deployed database.)

ALTER TABLE result_versions ALTER COLUMN record DROP NOT NULL;
ALTER TABLE result_versions DROP CONSTRAINT IF EXISTS result_versions_result_id_fkey;
ALTER TABLE results DROP CONSTRAINT IF EXISTS results_lab_id_fkey;
ALTER TABLE results DROP CONSTRAINT IF EXISTS results_patient_id_fkey;
DROP INDEX IF EXISTS results_patient;
DROP INDEX IF EXISTS patients_traits;
CREATE INDEX patients_traits_with_ins ON patients (family_norm, given_norm, birth_date, sex, patient_id) WHERE ins IS NOT NULL;
CREATE UNIQUE INDEX patients_ins ON patients (ins) WHERE ins IS NOT NULL;
ALTER TABLE patients DROP CONSTRAINT patients_ins_key;
ALTER TABLE results ALTER COLUMN record TYPE json USING record::json;
ALTER TABLE result_versions ALTER COLUMN record TYPE json USING record::json;

-- Each version with its record and sealed contact, wherever they are stored.
CREATE VIEW result_version_records AS
SELECT v.result_id, v.version, v.state, v.submission_id, v.item_index, v.content_hash, v.resulted_at,
       coalesce(v.record, r.record) AS record,
       CASE WHEN v.record IS NULL THEN r.contact_sealed ELSE v.contact_sealed END AS contact_sealed,
       v.created_at
  FROM result_versions v JOIN results r ON r.result_id = v.result_id;

-- The item-by-item (002) and jsonb (004) paths are gone: one apply path.
DROP FUNCTION IF EXISTS sidep_apply_items(jsonb);
DROP FUNCTION IF EXISTS sidep_resolve_patient(jsonb);

-- The staging table, created once per session (before the COPY that fills it); ON COMMIT DELETE ROWS empties
-- it in place at the end of every transaction that used it. Its columns are the worker's line, in order, after
-- ord (arrival order in the batch, prefixed by postgres-apply.ts).
CREATE OR REPLACE FUNCTION sidep_apply_stage() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF to_regclass('pg_temp.sidep_staged_items') IS NULL THEN
    CREATE TEMP TABLE sidep_staged_items (
      ord integer NOT NULL,
      -- f: to apply (fast until found otherwise), x: rejected (err holds its errors); then r: replay, s: slow
      kind "char" NOT NULL,
      s text NOT NULL, i integer NOT NULL, err jsonb,
      lab text, acc text, loinc text, ts timestamptz, seq bigint, st text, h bytea, rid uuid,
      ident text, ins text, fn text, gn text, bd date, sex text, family text, given text[],
      ps text, kid text, tt text, res text, sa timestamptz, dep text, reg text, co text, rec json, cs bytea,
      -- the outcome of a new key stored as version 1 (fast path)
      o_status text, o_state text,
      -- the first outcome, for a replay
      r_status text, r_result_id uuid, r_version integer, r_state text, r_patient_id bigint
    ) ON COMMIT DELETE ROWS;
    CREATE TEMP TABLE sidep_staged_patients (
      ident text PRIMARY KEY, ins text, fn text, gn text, bd date, sex text, family text, given text[],
      cs bytea, first_ord integer, patient_id bigint, how "char", claim_of bigint
    ) ON COMMIT DELETE ROWS;
    CREATE TEMP TABLE sidep_staged_outcomes (
      ord integer PRIMARY KEY, status text, result_id uuid, version integer, state text, patient_id bigint, replay boolean
    ) ON COMMIT DELETE ROWS;
  END IF;
END $$;

CREATE OR REPLACE FUNCTION sidep_apply_staged()
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
  v_pseq    regclass := pg_get_serial_sequence('patients', 'patient_id')::regclass;
BEGIN
  -- a second call in one transaction (never done by postgres-apply.ts): the outcomes of the first are gone
  DELETE FROM sidep_staged_patients; DELETE FROM sidep_staged_outcomes;

  -- 1. replay: already recorded under (submission_id, item_index), its first outcome is returned
  --    (only when a submission of the batch has items recorded already: one probe per submission)
  IF EXISTS (SELECT 1 FROM (SELECT DISTINCT b.s FROM sidep_staged_items b) d
              WHERE EXISTS (SELECT 1 FROM submission_items si WHERE si.submission_id = d.s)) THEN
    UPDATE sidep_staged_items b
       SET kind = 'r', r_status = x.status, r_result_id = x.result_id, r_version = x.version, r_state = k.state, r_patient_id = k.patient_id
      FROM (SELECT c.ord, si.status, si.result_id, si.version
              FROM sidep_staged_items c
             CROSS JOIN LATERAL (SELECT si.status, si.result_id, si.version FROM submission_items si
                                  WHERE si.submission_id = c.s AND si.item_index = c.i) si) x
      LEFT JOIN results k ON k.result_id = x.result_id
     WHERE b.ord = x.ord;
  END IF;
  -- the same (submission_id, item_index) twice in the batch: the later ones replay the first (slow path)
  IF EXISTS (SELECT 1 FROM sidep_staged_items b GROUP BY b.s, b.i HAVING count(*) > 1) THEN
    UPDATE sidep_staged_items b SET kind = 's'
     WHERE b.kind <> 'r' AND b.ord NOT IN (SELECT min(d.ord) FROM sidep_staged_items d GROUP BY d.s, d.i);
  END IF;
  -- a key more than once in the batch: every item of that key in arrival order (slow path); a key already in
  -- results is found by the fast INSERT's ON CONFLICT and goes to the slow path too
  IF EXISTS (SELECT 1 FROM sidep_staged_items b WHERE b.kind IN ('f', 's') AND b.err IS NULL
              GROUP BY b.lab, b.acc, b.loinc HAVING count(*) > 1) THEN
    UPDATE sidep_staged_items b SET kind = 's'
     WHERE b.kind = 'f' AND (b.lab, b.acc, b.loinc) IN (
             SELECT d.lab, d.acc, d.loinc FROM sidep_staged_items d WHERE d.kind IN ('f', 's') AND d.err IS NULL
              GROUP BY d.lab, d.acc, d.loinc HAVING count(*) > 1);
  END IF;

  -- 2. rejected items, in one statement
  INSERT INTO submission_items (submission_id, item_index, status, error)
  SELECT b.s, b.i, 'rejected', b.err FROM sidep_staged_items b WHERE b.kind = 'x' ORDER BY b.s, b.i;

  -- 3. patients, as in 004 (one row per distinct identity, resolved in the same statement)
  INSERT INTO sidep_staged_patients (ident, ins, fn, gn, bd, sex, family, given, cs, first_ord, patient_id, how, claim_of)
  SELECT d.ident, d.ins, d.fn, d.gn, d.bd, d.sex, d.family, d.given, d.cs, d.ord,
         CASE WHEN e.patient_id IS NOT NULL THEN e.patient_id
              WHEN d.ins IS NULL AND t.patient_id IS NOT NULL THEN t.patient_id
              ELSE nextval(v_pseq) END,
         CASE WHEN e.patient_id IS NOT NULL OR (d.ins IS NULL AND t.patient_id IS NOT NULL) THEN 'e'
              WHEN t.without_ins THEN 'c' ELSE 'n' END::"char",
         CASE WHEN e.patient_id IS NULL AND d.ins IS NOT NULL AND t.without_ins THEN t.patient_id END
    FROM (SELECT DISTINCT ON (b.ident) b.ident, b.ins, b.fn, b.gn, b.bd, b.sex, b.family, b.given, b.cs, b.ord
            FROM sidep_staged_items b WHERE b.kind IN ('f', 's') AND b.err IS NULL ORDER BY b.ident, b.ord) d
    LEFT JOIN patients e ON d.ins IS NOT NULL AND e.ins IS NOT NULL AND e.ins = d.ins
    -- the patient without INS for those traits (at most one: patients_traits_without_ins)
    LEFT JOIN LATERAL (SELECT p.patient_id FROM patients p
                        WHERE e.patient_id IS NULL AND p.ins IS NULL
                          AND p.family_norm = d.fn AND p.given_norm = d.gn AND p.birth_date = d.bd AND p.sex = d.sex
                        LIMIT 1) t0 ON true
    -- else, for an item without INS, the oldest patient with those traits (they all have an INS, since there is
    -- none without: patients_traits_with_ins)
    LEFT JOIN LATERAL (SELECT p.patient_id FROM patients p
                        WHERE d.ins IS NULL AND t0.patient_id IS NULL AND p.ins IS NOT NULL
                          AND p.family_norm = d.fn AND p.given_norm = d.gn AND p.birth_date = d.bd AND p.sex = d.sex
                        ORDER BY p.patient_id LIMIT 1) t1 ON true
    CROSS JOIN LATERAL (SELECT coalesce(t0.patient_id, t1.patient_id) AS patient_id, t0.patient_id IS NOT NULL AS without_ins) t;

  -- 3a. a patient known so far only by traits gets the INS (locks in patient_id order)
  IF EXISTS (SELECT 1 FROM sidep_staged_patients q WHERE q.how = 'c') THEN
    PERFORM 1 FROM patients p WHERE p.patient_id IN (SELECT q.claim_of FROM sidep_staged_patients q WHERE q.how = 'c')
     ORDER BY p.patient_id FOR UPDATE;
    WITH c AS (
      SELECT DISTINCT ON (q.claim_of) q.ident, q.ins, q.cs, q.claim_of FROM sidep_staged_patients q WHERE q.how = 'c'
       ORDER BY q.claim_of, q.first_ord
    ), claimed AS (
      UPDATE patients p SET ins = c.ins, contact_sealed = coalesce(p.contact_sealed, c.cs), updated_at = now()
        FROM c WHERE p.patient_id = c.claim_of AND p.ins IS NULL
      RETURNING p.patient_id, c.ident
    )
    UPDATE sidep_staged_patients q SET patient_id = claimed.patient_id, how = 'e' FROM claimed WHERE q.ident = claimed.ident;
    UPDATE sidep_staged_patients q SET how = 'n' WHERE q.how = 'c';
  END IF;

  -- 3b. no INS, no patient with those traits yet, but a new INS patient of this batch with the same traits
  IF EXISTS (SELECT 1 FROM sidep_staged_patients q WHERE q.how = 'n' GROUP BY q.fn, q.gn, q.bd, q.sex
              HAVING bool_or(q.ins IS NULL) AND bool_or(q.ins IS NOT NULL)) THEN
    UPDATE sidep_staged_patients t SET patient_id = w.patient_id, how = 'e'
      FROM (SELECT DISTINCT ON (q.fn, q.gn, q.bd, q.sex) q.fn, q.gn, q.bd, q.sex, q.patient_id
              FROM sidep_staged_patients q WHERE q.ins IS NOT NULL AND q.how = 'n' ORDER BY q.fn, q.gn, q.bd, q.sex, q.first_ord) w
     WHERE t.ins IS NULL AND t.how = 'n' AND t.fn = w.fn AND t.gn = w.gn AND t.bd = w.bd AND t.sex = w.sex;
  END IF;

  -- 3c. new patients, in identity order; one inserted meanwhile by a concurrent transaction is that one
  SELECT count(*) INTO v_fast FROM sidep_staged_patients q WHERE q.how = 'n';
  IF v_fast > 0 THEN
    INSERT INTO patients (patient_id, ins, family_norm, given_norm, birth_date, sex, family, given, contact_sealed)
    SELECT q.patient_id, q.ins, q.fn, q.gn, q.bd, q.sex, q.family, q.given, q.cs
      FROM sidep_staged_patients q WHERE q.how = 'n' ORDER BY q.ident
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    IF v_n < v_fast THEN
      -- same INS; else the patient without INS for those traits, else the oldest with them (as 004's
      -- ORDER BY (ins IS NULL) DESC, patient_id, through the two partial traits indexes)
      UPDATE sidep_staged_patients q SET how = 'e', patient_id = coalesce(
               (SELECT p.patient_id FROM patients p WHERE q.ins IS NOT NULL AND p.ins IS NOT NULL AND p.ins = q.ins),
               (SELECT p.patient_id FROM patients p
                 WHERE q.ins IS NULL AND p.ins IS NULL AND p.family_norm = q.fn AND p.given_norm = q.gn AND p.birth_date = q.bd AND p.sex = q.sex
                 LIMIT 1),
               (SELECT p.patient_id FROM patients p
                 WHERE q.ins IS NULL AND p.ins IS NOT NULL AND p.family_norm = q.fn AND p.given_norm = q.gn AND p.birth_date = q.bd AND p.sex = q.sex
                 ORDER BY p.patient_id LIMIT 1))
       WHERE q.how = 'n' AND NOT EXISTS (SELECT 1 FROM patients p WHERE p.patient_id = q.patient_id);
    END IF;
  END IF;

  -- 3d. a known patient without contact gets the one of its first item in the batch (locks in patient_id order)
  IF EXISTS (SELECT 1 FROM sidep_staged_patients q WHERE q.how = 'e' AND q.cs IS NOT NULL) THEN
    PERFORM 1 FROM patients p
     WHERE p.contact_sealed IS NULL AND p.patient_id IN (SELECT q.patient_id FROM sidep_staged_patients q WHERE q.how = 'e' AND q.cs IS NOT NULL)
     ORDER BY p.patient_id FOR NO KEY UPDATE;
    UPDATE patients p SET contact_sealed = c.cs, updated_at = now()
      FROM (SELECT DISTINCT ON (q.patient_id) q.patient_id, q.cs FROM sidep_staged_patients q
             WHERE q.how = 'e' AND q.cs IS NOT NULL ORDER BY q.patient_id, q.first_ord) c
     WHERE p.patient_id = c.patient_id AND p.contact_sealed IS NULL;
  END IF;

  -- 4. fast items: new keys, once in the batch, inserted in key order; a key already in results (or inserted
  --    meanwhile by a concurrent transaction) is not inserted and its item goes to the slow path
  SELECT count(*) INTO v_fast FROM sidep_staged_items b WHERE b.kind = 'f';
  IF v_fast > 0 THEN
    INSERT INTO results (result_id, lab_id, accession, loinc, version, state, content_hash, resulted_at, arrival_seq, arrival_index,
                         patient_id, pseudonym, key_id, test_type, result, sampled_at, department, region, country, record, contact_sealed)
    SELECT b.rid, b.lab, b.acc, b.loinc, 1, b.o_state, b.h, b.ts, b.seq, b.i,
           q.patient_id, b.ps, b.kid, b.tt, b.res, b.sa, b.dep, b.reg, b.co, b.rec, b.cs
      FROM sidep_staged_items b JOIN sidep_staged_patients q ON q.ident = b.ident
     WHERE b.kind = 'f'
     ORDER BY b.lab, b.acc, b.loinc
    ON CONFLICT (lab_id, accession, loinc) DO NOTHING;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    IF v_n < v_fast THEN
      UPDATE sidep_staged_items b SET kind = 's'
       WHERE b.kind = 'f' AND NOT EXISTS (SELECT 1 FROM results k WHERE k.result_id = b.rid);
    END IF;
    -- the record stays in results only while this version is current (result_versions.record IS NULL)
    INSERT INTO result_versions (result_id, version, state, submission_id, item_index, content_hash, resulted_at)
    SELECT b.rid, 1, b.o_state, b.s, b.i, b.h, b.ts FROM sidep_staged_items b WHERE b.kind = 'f';
    INSERT INTO submission_items (submission_id, item_index, status, result_id, version)
    SELECT b.s, b.i, b.o_status, b.rid, 1 FROM sidep_staged_items b WHERE b.kind = 'f';
  END IF;

  -- 5. slow items, in arrival order, as in 002/004 (with the patient resolved above)
  IF EXISTS (SELECT 1 FROM sidep_staged_items b WHERE b.kind = 's') THEN
    -- the existing rows they touch, locked in key order before any of them is changed
    PERFORM 1 FROM results k
     WHERE (k.lab_id, k.accession, k.loinc) IN (SELECT b.lab, b.acc, b.loinc FROM sidep_staged_items b WHERE b.kind = 's' AND b.err IS NULL)
     ORDER BY k.lab_id, k.accession, k.loinc FOR NO KEY UPDATE OF k;

    FOR r IN SELECT b.*, q.patient_id AS pid FROM sidep_staged_items b LEFT JOIN sidep_staged_patients q ON q.ident = b.ident
              WHERE b.kind = 's' ORDER BY b.ord LOOP
      SELECT si.status, si.result_id, si.version INTO v_status, v_rid, v_version
        FROM submission_items si WHERE si.submission_id = r.s AND si.item_index = r.i;
      IF FOUND THEN
        SELECT k.state, k.patient_id INTO v_state, v_pid FROM results k WHERE k.result_id = v_rid;
        INSERT INTO sidep_staged_outcomes VALUES (r.ord, v_status, v_rid, v_version, v_state, v_pid, true);
        CONTINUE;
      END IF;

      IF r.err IS NOT NULL THEN
        INSERT INTO submission_items (submission_id, item_index, status, error) VALUES (r.s, r.i, 'rejected', r.err);
        INSERT INTO sidep_staged_outcomes VALUES (r.ord, 'rejected', NULL, NULL, NULL, NULL, false);
        CONTINUE;
      END IF;

      SELECT * INTO cur FROM results k
       WHERE k.lab_id = r.lab AND k.accession = r.acc AND k.loinc = r.loinc FOR NO KEY UPDATE;
      IF NOT FOUND THEN
        v_version := 1;
        v_state := CASE r.st WHEN 'cancelled' THEN 'cancelled' WHEN 'corrected' THEN 'corrected' ELSE 'final' END;
        INSERT INTO results (result_id, lab_id, accession, loinc, version, state, content_hash, resulted_at, arrival_seq, arrival_index,
                             patient_id, pseudonym, key_id, test_type, result, sampled_at, department, region, country,
                             record, contact_sealed)
        VALUES (r.rid, r.lab, r.acc, r.loinc, 1, v_state, r.h, r.ts, r.seq, r.i,
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
        -- the version being replaced takes its record and contact into the history
        UPDATE result_versions v SET record = cur.record, contact_sealed = cur.contact_sealed
         WHERE v.result_id = cur.result_id AND v.version = cur.version AND v.record IS NULL;
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
        INSERT INTO result_versions (result_id, version, state, submission_id, item_index, content_hash, resulted_at)
        VALUES (v_rid, v_version, v_state, r.s, r.i, r.h, r.ts);
      END IF;
      INSERT INTO submission_items (submission_id, item_index, status, result_id, version)
      VALUES (r.s, r.i, v_status, v_rid, v_version);
      INSERT INTO sidep_staged_outcomes VALUES (r.ord, v_status, v_rid, v_version, v_state, r.pid, false);
    END LOOP;
  END IF;

  -- 6. one row per item, in arrival order
  RETURN QUERY
  SELECT b.s, b.i,
         CASE WHEN o.ord IS NOT NULL THEN o.status WHEN b.kind = 'f' THEN b.o_status WHEN b.kind = 'r' THEN b.r_status ELSE 'rejected' END,
         CASE WHEN o.ord IS NOT NULL THEN o.result_id WHEN b.kind = 'f' THEN b.rid WHEN b.kind = 'r' THEN b.r_result_id END,
         CASE WHEN o.ord IS NOT NULL THEN o.version WHEN b.kind = 'f' THEN 1 WHEN b.kind = 'r' THEN b.r_version END,
         CASE WHEN o.ord IS NOT NULL THEN o.state WHEN b.kind = 'f' THEN b.o_state WHEN b.kind = 'r' THEN b.r_state END,
         CASE WHEN o.ord IS NOT NULL THEN o.patient_id WHEN b.kind = 'f' THEN q.patient_id WHEN b.kind = 'r' THEN b.r_patient_id END,
         coalesce(o.replay, b.kind = 'r')
    FROM sidep_staged_items b
    LEFT JOIN sidep_staged_outcomes o ON o.ord = b.ord
    LEFT JOIN sidep_staged_patients q ON q.ident = b.ident AND b.kind = 'f'
   ORDER BY b.ord;
END $$;
