"""The two reference strategies of tapedeck issue 5, written for flumine 2.13.

They exist to produce golden fills: tapedeck's Go built-ins `lowest-layer` and
`passive-back` must behave exactly like these under flumine's simulator.
Limits are set so they never bind (see LIMITS), which keeps the comparison
about the simulator rather than about controls.
"""

from flumine import BaseStrategy
from flumine.order.order import OrderStatus
from flumine.order.ordertype import LimitOrder
from flumine.order.trade import Trade
from flumine.utils import get_price

STAKE = 2.0

# Exposure and trade-count limits that never bind for these strategies.
LIMITS = dict(
    max_order_exposure=1000,
    max_selection_exposure=1000,
    max_live_trade_count=1000,
    max_trade_count=100000,
)


class LowestLayer(BaseStrategy):
    """flumine's examples/strategies/lowestlayer.py, with two differences that
    do not change its orders: no underround note, and a missing best lay price
    skips instead of creating an order with price None (which flumine's
    OrderValidation would record as a violation).

    In play and OPEN: lay the ACTIVE runner with the lowest last traded price
    if that price is at most 3 and the runner has no live trade; cancel any of
    its orders still EXECUTABLE more than 2 s after placement.
    """

    def check_market_book(self, market, market_book):
        return market_book.status == "OPEN" and market_book.inplay

    def process_market_book(self, market, market_book):
        prices = [
            (r.selection_id, r.last_price_traded)
            for r in market_book.runners
            if r.status == "ACTIVE" and r.last_price_traded
        ]
        if not prices:
            return
        # Python's sort is stable: ties keep the book's runner order.
        prices.sort(key=lambda tup: tup[1])
        selection_id = prices[0][0]
        if prices[0][1] > 3:
            return
        for runner in market_book.runners:
            if runner.selection_id != selection_id:
                continue
            runner_context = self.get_runner_context(
                market.market_id, runner.selection_id, runner.handicap
            )
            if runner_context.live_trade_count != 0:
                continue
            lay = get_price(runner.ex.available_to_lay, 0)
            if lay is None:
                continue
            trade = Trade(
                market_book.market_id, runner.selection_id, runner.handicap, self
            )
            order = trade.create_order(side="LAY", order_type=LimitOrder(lay, STAKE))
            market.place_order(order)

    def process_orders(self, market, orders):
        for order in orders:
            if order.status == OrderStatus.EXECUTABLE:
                if order.elapsed_seconds and order.elapsed_seconds > 2:
                    market.cancel_order(order)


class PassiveBack(BaseStrategy):
    """OPEN, not in play, at most 180 s to the scheduled start: for each ACTIVE
    runner with both a best back and a best lay price and no order yet, back
    stake 2 at the best lay price (it rests in the queue). No cancels.

    "No order yet" is the runner context's trade count: it counts every order
    this strategy placed on the runner in this market, including ones that
    later failed at execution, so a runner is tried once per market.
    """

    def check_market_book(self, market, market_book):
        return (
            market_book.status == "OPEN"
            and not market_book.inplay
            and market.seconds_to_start <= 180
        )

    def process_market_book(self, market, market_book):
        for runner in market_book.runners:
            if runner.status != "ACTIVE":
                continue
            back = get_price(runner.ex.available_to_back, 0)
            lay = get_price(runner.ex.available_to_lay, 0)
            if back is None or lay is None:
                continue
            runner_context = self.get_runner_context(
                market.market_id, runner.selection_id, runner.handicap
            )
            if runner_context.trade_count != 0:
                continue
            trade = Trade(
                market_book.market_id, runner.selection_id, runner.handicap, self
            )
            order = trade.create_order(side="BACK", order_type=LimitOrder(lay, STAKE))
            market.place_order(order)


STRATEGIES = {
    "lowest-layer": LowestLayer,
    "passive-back": PassiveBack,
}
