class BetConnectException(Exception):
    pass
