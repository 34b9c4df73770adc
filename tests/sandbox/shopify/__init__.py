"""Tests of the Shopify sandbox over real sockets."""
