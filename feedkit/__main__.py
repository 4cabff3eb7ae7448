"""Allow ``python -m feedkit``."""

from feedkit.cli import main

main()
