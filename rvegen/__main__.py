"""`python -m rvegen` runs the CLI."""

from .cli import main

main()
