"""aligner's knowledge as data (TOML); a package only so that it ships in the wheel."""
