"""Provider dialects: thin HTTP translators over the one domain, one package each."""
