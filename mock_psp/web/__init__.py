"""Features every HTTP face shares: API faults, the request journal, rate limits."""
