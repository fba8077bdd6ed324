-- An import job's lease: the instance running a job renews `lease_until` as it goes; a job still
-- `running` after its lease ran out belongs to an instance that died, and `serve` queues it again.
ALTER TABLE imports ADD COLUMN lease_until TIMESTAMP;
CREATE INDEX imports_status_lease_idx ON imports (status, lease_until);
