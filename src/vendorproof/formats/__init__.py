"""Readers for delivery formats other than vendorproof's own directory layout.

Each module here reads one format safely and returns plain, frozen data; it makes no
trust decision. ``ziparchive`` reads ZIP archives without extracting them,
``sol004`` parses ETSI GS NFV-SOL 004 packages (CSAR) on top of it. They are not yet
wired into ``verify``: the format adapter seam (one adapter per format, loading into
the same ``Delivery`` model) will connect them.
"""
