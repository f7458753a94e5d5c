"""The hosted checkout: one set of pages for every dialect, served under /checkout/."""
