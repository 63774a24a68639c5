"""CI mode: project files, `paxcheck test`, its cache and reports."""
