"""``python -m adnb``: the book's worked example (see adnb/demo.py)."""
import sys

from .demo import main

sys.exit(main())
