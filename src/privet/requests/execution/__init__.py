"""Running a verified request to its answer: the datastores it reaches, one step (job) per datastore against its
connector, legal holds that stop an erasure, steps handed to people, then the package or the proof."""
