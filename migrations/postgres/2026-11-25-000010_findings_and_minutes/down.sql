DROP TABLE minutes_corrections;
DROP TABLE minutes;
DROP TABLE finding_votes;
DROP TABLE findings;
