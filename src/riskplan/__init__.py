"""riskplan: risk tiers and double-random inspection rosters for work-safety regulators."""

__version__ = "0.1.0"
