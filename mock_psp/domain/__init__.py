"""The payment domain: one model that every provider dialect maps onto.

Nothing in this package imports Flask or any dialect; it reads and writes the
store, asks the namespace's clock for the time, and raises DomainError.
"""
