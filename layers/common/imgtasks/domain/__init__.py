"""The domain: records, the operation and output catalogues, messages, limits, the error catalog
and the rules that need no AWS (image inspection). Imports nothing from kinds, services or
adapters."""
