"""The dashboard's read models, one module per page (and what several pages share); every query scoped by merchant_id, no Flask imports."""
