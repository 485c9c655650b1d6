"""Generators of the account-level stacks: the bootstrap (artifacts bucket) and the platform."""
