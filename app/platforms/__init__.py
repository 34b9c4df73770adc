"""Platform adapters: Shopify and WooCommerce translate domain events to API calls."""
