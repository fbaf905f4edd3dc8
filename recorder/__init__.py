"""Files and call metadata in, ``Recording`` objects out. No ML, no database."""
