DROP TABLE changes;
DROP TABLE rule_overrides;
DROP TABLE seat_holdings;
DROP TABLE seats;
DROP TABLE councils;
DROP TABLE people;
DROP TABLE schools;
