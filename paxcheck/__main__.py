"""`python -m paxcheck`: the command line."""
import sys

from paxcheck.cli import main

sys.exit(main())
