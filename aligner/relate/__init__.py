"""One run's inputs, related: the workspace (every file read once), its images, what each asks of the
resolver."""
