"""The domain: records, specs, results, messages, limits, the error catalog and the rules that need
no AWS (presets, image inspection). Imports nothing from services or adapters."""
