DROP TABLE record_entries;
