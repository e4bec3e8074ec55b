"""Manual tasks: a person does one datastore's part of a request (list, see whom to look for, complete)."""
