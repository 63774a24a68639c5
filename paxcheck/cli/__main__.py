"""`python -m paxcheck.cli`: the command line."""
import sys

from paxcheck.cli import main

sys.exit(main())
