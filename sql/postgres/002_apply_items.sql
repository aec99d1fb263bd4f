-- The match/dedup/versioning decision for a batch of validated items, in one round trip and one
-- transaction. Idempotent: an item already recorded under (submission_id, item_index) is not applied again,
-- its first outcome is returned with replay = true (JetStream redelivery after a crash).
--
-- Versioning (DESIGN.md, "Canonical result"): the result key is (lab_id, accession, loinc); a later message
-- with the same key replaces the current version when it is newer by resultedAt, then by arrival (INGEST
-- stream sequence, then item index). Same content as the current version: 'duplicate'. Older than the
-- current version: 'superseded' (kept in the item status, changes nothing).

CREATE OR REPLACE FUNCTION sidep_resolve_patient(p jsonb) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  v_id  bigint;
  v_ins text := p->>'ins';
  v_fn  text := p->>'fn';
  v_gn  text := p->>'gn';
  v_bd  date := (p->>'bd')::date;
  v_sex text := p->>'sex';
  v_cs  bytea := decode(p->>'cs', 'base64');
BEGIN
  IF v_ins IS NOT NULL THEN
    -- same INS, same patient
    UPDATE patients SET contact_sealed = coalesce(v_cs, contact_sealed), updated_at = now()
     WHERE ins = v_ins RETURNING patient_id INTO v_id;
    IF FOUND THEN RETURN v_id; END IF;
    -- a patient known so far only by traits gets the INS
    UPDATE patients SET ins = v_ins, contact_sealed = coalesce(v_cs, contact_sealed), updated_at = now()
     WHERE patient_id = (SELECT patient_id FROM patients
                          WHERE ins IS NULL AND family_norm = v_fn AND given_norm = v_gn AND birth_date = v_bd AND sex = v_sex
                          LIMIT 1 FOR UPDATE)
     RETURNING patient_id INTO v_id;
    IF FOUND THEN RETURN v_id; END IF;
    INSERT INTO patients (ins, family_norm, given_norm, birth_date, sex, family, given, contact_sealed)
    VALUES (v_ins, v_fn, v_gn, v_bd, v_sex, p->>'family', ARRAY(SELECT jsonb_array_elements_text(p->'given')), v_cs)
    RETURNING patient_id INTO v_id;
    RETURN v_id;
  END IF;
  -- no INS: same normalised traits, same patient (the one without INS first, else the oldest)
  SELECT patient_id INTO v_id FROM patients
   WHERE family_norm = v_fn AND given_norm = v_gn AND birth_date = v_bd AND sex = v_sex
   ORDER BY (ins IS NULL) DESC, patient_id LIMIT 1;
  IF FOUND THEN
    IF v_cs IS NOT NULL THEN UPDATE patients SET contact_sealed = v_cs, updated_at = now() WHERE patient_id = v_id; END IF;
    RETURN v_id;
  END IF;
  INSERT INTO patients (ins, family_norm, given_norm, birth_date, sex, family, given, contact_sealed)
  VALUES (NULL, v_fn, v_gn, v_bd, v_sex, p->>'family', ARRAY(SELECT jsonb_array_elements_text(p->'given')), v_cs)
  ON CONFLICT (family_norm, given_norm, birth_date, sex) WHERE ins IS NULL DO UPDATE SET updated_at = now()
  RETURNING patient_id INTO v_id;
  RETURN v_id;
END $$;

CREATE OR REPLACE FUNCTION sidep_apply_items(batch jsonb)
RETURNS TABLE (submission_id text, item_index integer, status text, result_id uuid, version integer, state text, patient_id bigint, replay boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
  it        jsonb;
  cur       results%ROWTYPE;
  v_hash    bytea;
  v_ts      timestamptz;
  v_seq     bigint;
  v_cs      bytea;
  v_patient bigint;
BEGIN
  FOR it IN SELECT value FROM jsonb_array_elements(batch) LOOP
    submission_id := it->>'s';
    item_index := (it->>'i')::integer;
    replay := false;
    patient_id := NULL;

    SELECT si.status, si.result_id, si.version INTO status, result_id, version
      FROM submission_items si WHERE si.submission_id = it->>'s' AND si.item_index = (it->>'i')::integer;
    IF FOUND THEN
      replay := true;
      SELECT r.state, r.patient_id INTO state, patient_id FROM results r WHERE r.result_id = result_id;
      RETURN NEXT;
      CONTINUE;
    END IF;

    IF it ? 'err' THEN
      INSERT INTO submission_items (submission_id, item_index, status, error)
      VALUES (it->>'s', (it->>'i')::integer, 'rejected', it->'err');
      status := 'rejected'; result_id := NULL; version := NULL; state := NULL;
      RETURN NEXT;
      CONTINUE;
    END IF;

    v_patient := sidep_resolve_patient(it->'p');
    patient_id := v_patient;
    v_hash := decode(it->>'h', 'hex');
    v_ts := (it->>'ts')::timestamptz;
    v_seq := (it->>'seq')::bigint;
    v_cs := decode(it->>'cs', 'base64');

    SELECT * INTO cur FROM results r
     WHERE r.lab_id = it->>'lab' AND r.accession = it->>'acc' AND r.loinc = it->>'loinc' FOR UPDATE;
    IF NOT FOUND THEN
      version := 1;
      state := CASE it->>'st' WHEN 'cancelled' THEN 'cancelled' WHEN 'corrected' THEN 'corrected' ELSE 'final' END;
      INSERT INTO results (lab_id, accession, loinc, version, state, content_hash, resulted_at, arrival_seq, arrival_index,
                           patient_id, pseudonym, key_id, test_type, result, sampled_at, department, region, country,
                           record, contact_sealed)
      VALUES (it->>'lab', it->>'acc', it->>'loinc', 1, state, v_hash, v_ts, v_seq, item_index,
              v_patient, it->>'ps', it->>'kid', it->>'tt', it->>'res', (it->>'sa')::timestamptz, it->>'dep', it->>'reg', it->>'co',
              it->'rec', v_cs)
      RETURNING results.result_id INTO result_id;
      status := CASE state WHEN 'cancelled' THEN 'cancelled' ELSE 'stored' END;
    ELSIF cur.content_hash = v_hash THEN
      status := 'duplicate'; result_id := cur.result_id; version := cur.version; state := cur.state;
    ELSIF (v_ts, v_seq, item_index) < (cur.resulted_at, cur.arrival_seq, cur.arrival_index) THEN
      status := 'superseded'; result_id := cur.result_id; version := cur.version; state := cur.state;
    ELSE
      version := cur.version + 1;
      state := CASE it->>'st' WHEN 'cancelled' THEN 'cancelled' ELSE 'corrected' END;
      UPDATE results r SET version = version, state = state, content_hash = v_hash, resulted_at = v_ts,
             arrival_seq = v_seq, arrival_index = item_index, patient_id = v_patient, pseudonym = it->>'ps',
             key_id = it->>'kid', test_type = it->>'tt', result = it->>'res', sampled_at = (it->>'sa')::timestamptz,
             department = it->>'dep', region = it->>'reg', country = it->>'co', record = it->'rec',
             contact_sealed = v_cs, updated_at = now()
       WHERE r.result_id = cur.result_id;
      result_id := cur.result_id;
      status := CASE state WHEN 'cancelled' THEN 'cancelled' ELSE 'corrected' END;
    END IF;

    IF status IN ('stored', 'corrected', 'cancelled') THEN
      INSERT INTO result_versions (result_id, version, state, submission_id, item_index, content_hash, resulted_at, record, contact_sealed)
      VALUES (result_id, version, state, submission_id, item_index, v_hash, v_ts, it->'rec', v_cs);
    END IF;
    INSERT INTO submission_items (submission_id, item_index, status, result_id, version)
    VALUES (submission_id, item_index, status, result_id, version);
    RETURN NEXT;
  END LOOP;
END $$;
