"""Use cases: the task lifecycle (the one door for status changes), tasks, files, accounts and
credentials, S3 drop-ins. They take their adapters as arguments."""
