"""The real-world accuracy suite (tests/realworld/): its scores and floors."""
