"""`aligner check`: rules over pins, images, the upstream and the lock."""
