-- Pseudonymised facts only (DESIGN.md, "Stores"): no name, birth date, contact, address or INS. One row per
-- (result, version); ReplacingMergeTree keeps the highest version per result_id, so redelivered inserts and
-- corrections collapse to one row (read with FINAL, or argMax for large scans). Cancelled results keep a row
-- with state 'cancelled' and are excluded from counts by `state != 'cancelled'`.
-- Runs on ClickHouse 18.16 (Debian) and current releases: no LowCardinality, no query parameters.
CREATE TABLE IF NOT EXISTS {db}.result_facts (
  result_id    String,
  version      UInt32,
  state        String,
  pseudonym    String,
  key_id       String,
  lab_id       String,
  test_type    String,
  loinc        String,
  result       String,
  value        Nullable(Float64),
  unit         String,
  age_band     String,
  sex          String,
  department   String,
  region       String,
  country      String,
  sampled_date Date,
  resulted_date Date,
  -- when the sink wrote the row (epoch ms): freshness and send-to-queryable latency, no personal meaning
  inserted_ms  UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY result_id
