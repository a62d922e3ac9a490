import enum
class OrderKillType(enum.Enum):
    FillOrKillDontCancel = 0
class WithdrawRepriceOption(enum.Enum):
    Cancel = 0
