"""Registers: processors, recipients and sharing events, public disclosures, corporate and cross-border
transfers, incidents."""
