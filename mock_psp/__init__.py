"""mock-psp: a local, deterministic fake of payment providers' public APIs."""

__version__ = "0.1.0"
