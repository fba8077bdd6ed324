-- The council record: a hash chain of each council's public acts (docs/VERIFY.md). Entries are
-- appended under a lock on the council's row and never changed; one entry per council and
-- sequence number (a unique index) keeps two writers from forking a chain.
-- Keep this file column-for-column identical in meaning to the same migration of the other backend.

CREATE TABLE record_entries (
    id TEXT PRIMARY KEY NOT NULL,
    council_id TEXT NOT NULL REFERENCES councils (id) ON DELETE RESTRICT,
    seq BIGINT NOT NULL CHECK (seq >= 1),
    kind TEXT NOT NULL CHECK (kind IN ('meeting_published', 'meeting_cancelled', 'agenda_amended',
        'motion_closed', 'assembly_motion_closed', 'minutes_approved', 'minutes_corrected')),
    subject_id TEXT NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    data TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);
CREATE UNIQUE INDEX record_entries_council_seq_key ON record_entries (council_id, seq);
