"""`python -m paxcheck`: the command line."""
from paxcheck.cli import entry

entry()
