"""Pipeline stage: the campaign job that runs every stage in order."""
