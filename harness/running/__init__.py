"""One run: its config, its refusals, its pricing and clock, the one loop, and its records on disk.

The lowest part of ``harness``: it imports nothing from the other subpackages.
"""
