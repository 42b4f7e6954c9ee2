"""Readers of microstructure images and stacks."""
