"""What is done with a decision: files written, reports rendered, images built and probed."""
