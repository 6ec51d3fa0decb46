"""The user's files into data: Dockerfiles into pins (and pins back into bytes), the config, the upstream.
Recognises components through aligner.know."""
