"""The task workers, one module per kind of task (imgtasks.kinds): process (ProcessFunction),
video (VideoFunction), infer (InferFunction) and archive (ArchiveFunction). Each reads its
kind's queue and runs claim -> work -> complete | fail | retry through the task lifecycle."""
