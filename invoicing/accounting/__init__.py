"""Accounting integration: the OMS feeds one accounting provider (Xero) in the background."""
