-- Governance reports filter councils' meetings by start time.
CREATE INDEX meetings_council_starts_idx ON meetings (council_id, starts_at);
