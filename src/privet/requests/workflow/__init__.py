"""Officer actions on a request (approve, refuse, extend, assign, complete, run, fees) and the periodic sweeps
(expiry, deadline reminders, backups after erasure)."""
