"""Warehouse operations on the shared stock: transfers between locations, CSV levels in and out."""
