DROP TABLE finding_votes;
DROP TABLE findings;
