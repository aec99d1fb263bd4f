-- Proof of testing (issue 5): the EU Digital COVID Certificates issued for results, and the results that got
-- none (with why). Written by the certifier role, idempotent on (result_id, version): a redelivered RESULTS
-- message finds its certificate already there and changes nothing.
--
-- Revocation (EU DCC revocation, hash type UCI): ci_hash is the SHA-256 of the certificate's `ci` (UVCI)
-- encoded in UTF-8; the revocation list publishes its first 128 bits, base64, as the EU gateway's revocation
-- batches do. A correction (a later version) revokes the earlier version's certificate ('superseded'), a
-- cancellation revokes it ('cancelled').

CREATE TABLE certificates (
  result_id      uuid NOT NULL REFERENCES results (result_id) ON DELETE CASCADE,
  version        integer NOT NULL,
  lab_id         text NOT NULL,
  ci             text NOT NULL UNIQUE,
  ci_hash        bytea NOT NULL UNIQUE,
  -- the whole "HC1:..." string: it holds the holder's name and birth date, so it is identified data,
  -- read only through audited routes
  hc1            text NOT NULL,
  -- base64 kid of the Document Signer Certificate that signed it (first 8 bytes of SHA-256 of its DER)
  kid            text NOT NULL,
  issued_at      timestamptz NOT NULL,
  exp            timestamptz NOT NULL,
  revoked_at     timestamptz,
  revoked_reason text CHECK (revoked_reason IN ('superseded', 'cancelled')),
  created_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (result_id, version)
);
CREATE INDEX certificates_revoked ON certificates (exp) WHERE revoked_at IS NOT NULL;

-- A result version that gets no certificate, and why (SEROLOGY, INCONCLUSIVE, CANCELLED, VALIDITY_ELAPSED):
-- recorded, never an error.
CREATE TABLE certificate_skips (
  result_id   uuid NOT NULL REFERENCES results (result_id) ON DELETE CASCADE,
  version     integer NOT NULL,
  reason      text NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (result_id, version)
);
