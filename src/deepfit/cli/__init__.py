"""The `deepfit` command line: thin commands over the public API, one renderer,
one error handler."""
