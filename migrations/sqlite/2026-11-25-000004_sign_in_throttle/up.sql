-- Sign-in throttling: one row per counted scope (an account from one address, an account from
-- anywhere, a client from one address, an address), subject and fixed time window. A sign-in
-- reserves its attempt with one atomic upsert per scope before the secret is checked, and gives
-- it back when the secret was right, so `attempts` counts real failed checks (and checks in
-- flight) and never exceeds the limit, across any number of cogov instances.
-- Keep this file column-for-column identical in meaning to the same migration of the other backend.

CREATE TABLE sign_in_attempts (
    scope TEXT NOT NULL CHECK (scope IN ('account', 'account_address', 'client_address', 'address')),
    subject TEXT NOT NULL,
    window_start TIMESTAMP NOT NULL,
    attempts BIGINT NOT NULL,
    PRIMARY KEY (scope, subject, window_start)
);
CREATE INDEX sign_in_attempts_window_idx ON sign_in_attempts (window_start);
