"""Example optimizers that use only the public ask/tell protocol (load with module:Class)."""
