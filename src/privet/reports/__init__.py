"""Records a regulator asks for: records of processing, impact assessments, generated from the data map and
registers."""
