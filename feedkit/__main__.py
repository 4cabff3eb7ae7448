"""Allow ``python -m feedkit``."""

from feedkit.cli import main

# Guarded: a second process of an import (feedkit.ingest.pipeline) starts by importing this
# module again under another name, and must not run the command a second time.
if __name__ == "__main__":
    main()
