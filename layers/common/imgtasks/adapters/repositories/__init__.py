"""Users, files, tasks and webhooks in the single DynamoDB table (key layout in
infra/template.yaml), one module each; items.py holds what they share, cursors.py the paging."""
