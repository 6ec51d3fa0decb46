"""What aligner knows: the components and how to recognise them, fact tables (rules/), the index and its
snapshot, rule pages, and version arithmetic. Imports only the floor (aligner.base)."""
