"""Access packages: the individual explanation, the zip (data.json, CSVs, report.html), its storage and download."""
