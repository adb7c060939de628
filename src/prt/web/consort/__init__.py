"""The live CONSORT flow diagram of a coordinator's sites, computed from the database at request
time with prt.trial.consort (counts, SVG), with its counts as a table and as JSON."""
