"""AWS behind small classes: boto3 clients, the DynamoDB repositories, S3 objects, the task queues
and the model registry. Each takes its boto3 client or table as an argument."""
