"""Stand-in for betdaq-retail: flumine imports it, a Betfair backtest never calls it."""
class BetdaqError(Exception):
    pass
def __getattr__(name):
    raise AttributeError(name)
