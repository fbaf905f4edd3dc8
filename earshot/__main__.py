"""``python -m earshot`` is the ``earshot`` command."""

from earshot.cli import main

main()
