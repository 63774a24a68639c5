"""paxcheck: explicit-state and Z3 checking of Paxos-family protocol specs."""
__version__ = "0.1.0"
