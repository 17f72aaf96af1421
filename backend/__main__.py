"""`python -m backend ...` entry point."""
import sys

from backend.cli import main
from backend.core.device import keep_freed_memory

if __name__ == "__main__":
    keep_freed_memory()  # a short-lived process: reuse freed tensor memory (see the function)
    sys.exit(main())
