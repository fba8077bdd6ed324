-- One real run per source at a time: two runs of one source's bulk files at once could each
-- delete, as left out of its file, what the other had just written. A claim that would make a
-- second run of the same system is refused here, and the job waits in the queue until the
-- running one ends. Dry runs write nothing and are not limited.
CREATE UNIQUE INDEX imports_one_running_per_system ON imports (system) WHERE status = 'running' AND NOT dry_run;
