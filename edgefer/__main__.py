"""`python -m edgefer` runs the command-line interface."""

from edgefer.cli import main

main()
