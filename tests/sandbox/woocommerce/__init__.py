"""Tests of the WooCommerce sandbox, over real HTTP."""
