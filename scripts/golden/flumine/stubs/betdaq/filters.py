def update_order(**kw):
    raise NotImplementedError("betdaq stub")
def create_order(**kw):
    raise NotImplementedError("betdaq stub")
