"""Messages about a request: the texts in en and zh_CN, sending them by a job, the completed message in plain words."""
