"""Discover personal data by what the columns of a company database hold (issue 17).

``classify`` decides, from a sample of a column's values (its name and SQL type adding evidence), which taxonomy
category the column holds; ``recognizers`` holds the recognizers of single values. The scanning half (sampling,
report, comparison with the data map, CLI) builds on ``classify.classify_column``. Nothing here ever puts a value
in an exception, a log line or a verdict: only categories, shares and counts leave.
"""
