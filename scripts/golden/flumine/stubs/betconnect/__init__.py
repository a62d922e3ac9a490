"""Stand-in for betconnect: flumine imports it, a Betfair backtest never calls it."""
class _Any:
    def __init__(self, *a, **kw):
        raise NotImplementedError("betconnect stub")
from . import resources, exceptions  # noqa: E402
