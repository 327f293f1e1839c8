"""Getting tasks to their workers: dispatch (DispatchFunction: the table's change stream turned
into task and fetch messages) and dead_tasks (DeadLetterFunction: the task messages no worker
could finish)."""
