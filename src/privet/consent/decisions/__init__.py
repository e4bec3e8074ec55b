"""Decisions: the rules (rules, policy), the in-memory snapshot the Decider answers from (snapshot, service), the
change watch (watch), `POST /decisions` (api) and `privet consent decide` (cli)."""
