"""vendorproof: cryptographic intake verification for vendor-delivered network software."""

__version__ = "0.1.0"
