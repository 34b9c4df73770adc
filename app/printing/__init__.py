"""Paper for the packing bench: pick lists and packing slips, their barcodes and PDFs."""
