"""Pure domain: no chat library, no HTTP, no database driver."""
