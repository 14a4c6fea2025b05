"""`python -m assistant` runs the same CLI as `notes`."""

from assistant.cli import main

main()
