from . import BetdaqError
