"""Session-level stages: read the session's files, call the library, write results."""
