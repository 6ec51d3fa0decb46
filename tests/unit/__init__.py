"""One module's behaviour at a time, in process."""
