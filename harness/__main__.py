"""``python -m harness`` runs the CLI (what tests use to avoid depending on PATH)."""

from harness.cli import main

main()
