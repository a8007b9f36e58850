"""Distributed training modes (training.md §13): parameter servers, MultiWorkerMirrored, MPI."""
