-- Operational truth (DESIGN.md, "Stores"): labs, patients, results with their versions, submissions and
-- per-item statuses, audit log. Identified data lives here only; contact fields are sealed with libsodium
-- (crypto_secretbox) before they reach this database.

CREATE TABLE labs (
  lab_id      text PRIMARY KEY,
  name        text NOT NULL,
  -- BLAKE2b-256 of the bearer token: the token itself is shown once and never stored
  token_hash  bytea NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);

-- One row per person across labs: the national patient id is patient_id.
CREATE TABLE patients (
  patient_id     bigserial PRIMARY KEY,
  ins            text UNIQUE,
  family_norm    text NOT NULL,
  given_norm     text NOT NULL,
  birth_date     date NOT NULL,
  sex            text NOT NULL,
  family         text NOT NULL,
  given          text[] NOT NULL,
  contact_sealed bytea,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
-- Lookup by normalised traits; at most one patient without INS per traits, so concurrent inserts of the same
-- person converge on one row (ON CONFLICT).
CREATE INDEX patients_traits ON patients (family_norm, given_norm, birth_date, sex);
CREATE UNIQUE INDEX patients_traits_without_ins ON patients (family_norm, given_norm, birth_date, sex) WHERE ins IS NULL;

CREATE TABLE submissions (
  submission_id text PRIMARY KEY,
  lab_id        text NOT NULL REFERENCES labs (lab_id),
  source        text NOT NULL,
  format        text NOT NULL,
  item_count    integer NOT NULL,
  received_at   timestamptz NOT NULL
);
CREATE INDEX submissions_lab ON submissions (lab_id, received_at);

-- The current version of each result key (lab_id, accession, loinc).
CREATE TABLE results (
  result_id      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  lab_id         text NOT NULL REFERENCES labs (lab_id),
  accession      text NOT NULL,
  loinc          text NOT NULL,
  version        integer NOT NULL,
  state          text NOT NULL CHECK (state IN ('final', 'corrected', 'cancelled')),
  content_hash   bytea NOT NULL,
  resulted_at    timestamptz NOT NULL,
  arrival_seq    bigint NOT NULL,
  arrival_index  integer NOT NULL,
  patient_id     bigint NOT NULL REFERENCES patients (patient_id),
  pseudonym      text NOT NULL,
  key_id         text NOT NULL,
  test_type      text NOT NULL,
  result         text NOT NULL,
  sampled_at     timestamptz NOT NULL,
  department     text,
  region         text,
  country        text,
  -- the canonical fields as the lab sent them, patient contact fields removed (they are in contact_sealed)
  record         jsonb NOT NULL,
  contact_sealed bytea,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (lab_id, accession, loinc)
);
CREATE INDEX results_patient ON results (patient_id);

CREATE TABLE result_versions (
  result_id      uuid NOT NULL REFERENCES results (result_id),
  version        integer NOT NULL,
  state          text NOT NULL,
  submission_id  text NOT NULL,
  item_index     integer NOT NULL,
  content_hash   bytea NOT NULL,
  resulted_at    timestamptz NOT NULL,
  record         jsonb NOT NULL,
  contact_sealed bytea,
  created_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (result_id, version)
);

CREATE TABLE submission_items (
  submission_id text NOT NULL,
  item_index    integer NOT NULL,
  status        text NOT NULL CHECK (status IN ('stored', 'duplicate', 'corrected', 'cancelled', 'superseded', 'rejected')),
  result_id     uuid,
  version       integer,
  error         jsonb,
  processed_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (submission_id, item_index)
);

-- Every read of identified data (DESIGN.md, "Privacy and security").
CREATE TABLE audit_log (
  audit_id   bigserial PRIMARY KEY,
  at         timestamptz NOT NULL DEFAULT now(),
  actor      text NOT NULL,
  action     text NOT NULL,
  subject    text NOT NULL,
  detail     jsonb
);
