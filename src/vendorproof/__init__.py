"""vendorproof: cryptographic intake verification of vendor-delivered software."""

__version__ = "0.1.0"
