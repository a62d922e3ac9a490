#!/usr/bin/env python3
"""Run one reference strategy through flumine's simulator and write its orders.

This produces tapedeck's golden fills (testdata/golden/flumine/): every order
flumine's FlumineSimulation creates, as one JSON line each, plus one P&L line
per market. The Go engine's `flumine` model is tested against these lines.

It needs flumine 2.13 and betfairlightweight on PYTHONPATH (see README.md in
this directory for the exact setup); it changes nothing in flumine's
behaviour. Its one patch wraps SimulatedOrder.place to remember the order's
queue-ahead (`_piq`) and the book it executed against, because flumine keeps
only the current `_piq`, which passive fills then wear down.

Usage:
  run_backtest.py --strategy passive-back --historic --orders OUT.orders.jsonl \
      --markets OUT.markets.jsonl FILE...
"""

import argparse
import datetime
import json
import logging
import sys
import time

from flumine import FlumineSimulation, clients
from flumine import config as flumine_config
from flumine.simulation.simulatedorder import SimulatedOrder

from strategies import LIMITS, STRATEGIES


def _patch_place_capture() -> None:
    """Remember, on each simulated order, its queue-ahead right after
    placement and the publish time of the book it was executed against."""
    original = SimulatedOrder.place

    def place(self, order_package, market_book, instruction, bet_id):
        response = original(self, order_package, market_book, instruction, bet_id)
        self.golden_piq_at_place = self._piq
        self.golden_exec_book_pt = market_book.publish_time_epoch
        return response

    SimulatedOrder.place = place


def _ms(dt):
    """Epoch milliseconds of a flumine datetime (simulated clock), or None."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.timezone.utc)
    return int(round(dt.timestamp() * 1000))


def _order_line(order, seq: int) -> dict:
    sim = order.simulated
    ot = order.order_type
    place_response = order.responses.place_response
    return {
        "market_id": order.market_id,
        "seq": seq,
        "selection_id": order.selection_id,
        "handicap": order.handicap,
        "strategy": order.trade.strategy.name,
        "side": order.side,
        "order_type": ot.ORDER_TYPE.value,
        "price": getattr(ot, "price", None),
        "size": getattr(ot, "size", None),
        "persistence": getattr(ot, "persistence_type", None),
        # publish time of the book the strategy saw when it placed the order
        "placed_pt": _ms(order.publish_time),
        # simulated clock when the order object was created (same book)
        "date_time_created": _ms(order.date_time_created),
        # simulated clock when flumine executed the placement (the later book
        # that released the pending package) and the book it matched against
        "executed_pt": _ms(order.responses.date_time_placed),
        "exec_book_pt": getattr(sim, "golden_exec_book_pt", None),
        "bet_id": order.bet_id,
        "place_status": getattr(place_response, "status", None),
        "error_code": getattr(place_response, "error_code", None),
        "status": order.status.name if order.status else None,
        "violation_msg": order.violation_msg,
        "size_matched": sim.size_matched,
        "average_price_matched": sim.average_price_matched,
        "size_remaining": sim.size_remaining,
        "size_cancelled": sim.size_cancelled,
        "size_lapsed": sim.size_lapsed,
        "size_voided": sim.size_voided,
        "runner_status": order.runner_status,
        "profit": order.profit,
        "piq_at_place": getattr(sim, "golden_piq_at_place", None),
        "piq_final": sim._piq,
        "execution_complete_at": _ms(order.date_time_execution_complete),
        # [simulated clock ms, status, size cancelled, error code] per
        # executed cancel request
        "cancels": [
            [
                _ms(getattr(r, "cancelled_date", None)),
                r.status,
                getattr(r, "size_cancelled", None),
                getattr(r, "error_code", None),
            ]
            for r in order.responses.cancel_responses
        ],
        # [publish time ms, price, size] per fill, as flumine records them
        "matched": sim.matched,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--strategy", required=True, choices=sorted(STRATEGIES))
    ap.add_argument("--orders", required=True, help="output orders JSONL")
    ap.add_argument("--markets", required=True, help="output per-market P&L JSONL")
    ap.add_argument(
        "--historic",
        action="store_true",
        help="files are Betfair historic (purchased PRO) data: listener computes "
        "market and runner traded volume from the traded ladders",
    )
    ap.add_argument(
        "--commission",
        type=float,
        default=0.05,
        help="client commission_base used by flumine's market.cleared (default 0.05)",
    )
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()

    logging.basicConfig(level=logging.CRITICAL)  # as flumine advises for speed
    _patch_place_capture()

    listener_kwargs = {}
    if args.historic:
        listener_kwargs = {"calculate_market_tv": True, "cumulative_runner_tv": True}

    client = clients.SimulatedClient(commission_base=args.commission)
    framework = FlumineSimulation(client=client)
    strategy = STRATEGIES[args.strategy](
        name=args.strategy,
        market_filter={"markets": list(args.files), "listener_kwargs": listener_kwargs},
        **LIMITS,
    )
    framework.add_strategy(strategy)

    t0 = time.perf_counter()
    framework.run()
    wall = time.perf_counter() - t0
    assert flumine_config.simulated, "flumine did not run in simulation mode"

    markets = sorted(framework.markets, key=lambda m: m.market_id)
    n_orders = 0
    with open(args.orders, "w") as fo, open(args.markets, "w") as fm:
        for market in markets:
            orders = list(market.blotter)  # placement order (dict insertion)
            for seq, order in enumerate(orders):
                fo.write(json.dumps(_order_line(order, seq), sort_keys=True) + "\n")
            n_orders += len(orders)
            cleared = market.cleared(client)
            book = market.market_book
            md = book.market_definition if book else None
            fm.write(
                json.dumps(
                    {
                        "market_id": market.market_id,
                        "event_id": market.event_id,
                        "market_type": market.market_type,
                        "market_base_rate": getattr(md, "market_base_rate", None),
                        "status": book.status if book else None,
                        "last_pt": book.publish_time_epoch if book else None,
                        "winners": [
                            r.selection_id
                            for r in (book.runners if book else [])
                            if r.status == "WINNER"
                        ],
                        "orders": len(orders),
                        "bet_count": cleared["betCount"],
                        "size_matched": round(sum(o.size_matched for o in orders), 2),
                        "profit": cleared["profit"],
                        "commission": cleared["commission"],
                        "net": round(cleared["profit"] - cleared["commission"], 2),
                    },
                    sort_keys=True,
                )
                + "\n"
            )
    print(
        json.dumps(
            {
                "strategy": args.strategy,
                "files": len(args.files),
                "markets": len(markets),
                "orders": n_orders,
                "run_seconds": round(wall, 3),
            }
        ),
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
