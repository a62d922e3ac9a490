"""flumine's tick-to-trade against tapedeck's local exchange (issue 9).

Runs flumine 2.13 in LIVE mode (Flumine, not FlumineSimulation) over
betfairlightweight 2.22's stream and betting clients, against
`trade serve --betting --info FILE`, with the strategy livebench runs: one
back bet at 1000 (which nothing matches) for 2 on the first ACTIVE runner,
on every Nth update of each OPEN, not in-play market. It times the interval
livebench times: from the market change read off the stream's socket to the
placeOrders request it caused written to the Betting API's connection, and
prints the same table as livebench.

    PYTHONPATH=$FLUMINE_ROOT/flumine:$FLUMINE_ROOT/betfair:scripts/golden/flumine/stubs \\
        /usr/bin/python3 scripts/bench/flumine_live.py --exchange-info ex.json --duration 60 --every 10

How betfairlightweight is pointed at the local exchange (only loopback
endpoints are accepted):

- by configuration: APIClient's identity_uri and api_uri (instance
  attributes every endpoint builds its URL from); REQUESTS_CA_BUNDLE for the
  exchange's CA, which requests honours for every session flumine makes.
- by monkeypatch, because bflw has no setting for them: the stream's host
  and port (BetfairStream takes a host *name* looked up in a table and a
  fixed private port 443), so APIClient.streaming is replaced by LocalStreaming,
  whose streams connect to the exchange's host:port and verify its CA (bflw's
  own stream does not verify at all). The same subclass records the receive
  time; see "timing" below.
- nothing is stubbed: the endpoints flumine's live framework calls
  (login, keepAlive, getAccountDetails, getAccountFunds,
  listMarketCatalogue, placeOrders, listClearedOrders, the market and
  order streams) are the local exchange's own.

Timing (everything else is flumine's and bflw's own code path):

- receive: TimedStream._receive_all stamps time.perf_counter_ns() when the
  socket read that completes a CRLF-terminated chunk returns; bflw's stream
  then hands each line of the chunk to the listener on the same thread, and
  the queue the market books leave on (StampingQueue) tags each book with
  that stamp.
- pairing: the strategy notes the stamp of the book it bets on under the
  order's customerOrderRef; a wrapper of APIClient.betting.place_orders finds
  it from the instructions and leaves it in a thread-local for the
  execution thread that sends the request.
- send: http.client.HTTPConnection.endheaders (which writes the request
  line, headers and body) is wrapped; when it returns in a thread holding a
  stamp, the request is on the wire. The first write counts, as in
  livebench; requests in the first --warmup seconds (the markets' images)
  are left out.
"""

import argparse
import functools
import http.client
import ipaddress
import json
import logging
import os
import queue
import resource
import socket
import ssl
import sys
import threading
import time
import urllib.parse

# requests reads these per request; set before anything imports requests'
# sessions so that no proxy (a CI's HTTPS_PROXY) sees the loopback traffic.
os.environ["NO_PROXY"] = "127.0.0.1,localhost,::1"

import betfairlightweight  # noqa: E402
from betfairlightweight.endpoints.streaming import Streaming  # noqa: E402
from betfairlightweight.filters import (  # noqa: E402
    streaming_market_data_filter,
    streaming_market_filter,
)
from betfairlightweight.streaming import BetfairStream, StreamListener  # noqa: E402
from flumine import BaseStrategy, Flumine, clients  # noqa: E402
from flumine.events import events  # noqa: E402
from flumine.execution.betfairexecution import BetfairExecution  # noqa: E402
from flumine.order.ordertype import LimitOrder  # noqa: E402
from flumine.order.trade import Trade  # noqa: E402
from flumine.streams.marketstream import MarketStream  # noqa: E402

# The fields livebench subscribes to (esa.AllMarketDataFields).
FIELDS = [
    "EX_ALL_OFFERS",
    "EX_TRADED",
    "EX_TRADED_VOL",
    "EX_LTP",
    "EX_MARKET_DEF",
    "SP_TRADED",
    "SP_PROJECTED",
]

# Limits that never bind: livebench's strategy has none, and flumine's
# defaults (one live trade per runner, 100 exposure per selection) would
# refuse the second bet on a runner.
LIMITS = dict(
    max_order_exposure=1e9,
    max_selection_exposure=1e9,
    max_live_trade_count=10**9,
    max_trade_count=10**9,
)


def read_info(path, wait):
    """The JSON `trade serve --info` writes, waiting up to wait seconds for
    it to appear (the exchange may still be starting)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            with open(path) as f:
                info = json.load(f)
        except FileNotFoundError:
            if time.monotonic() > deadline:
                raise SystemExit(f"{path}: not written by trade serve in {wait} s")
            time.sleep(0.1)
            continue
        if not info.get("stream") or not info.get("identity"):
            raise SystemExit(f"{path}: not the JSON trade serve --info writes")
        return info


def loopback_host(endpoint):
    """The host of a URL or host:port, refused unless it is this machine:
    whatever it names receives a login."""
    if "://" in endpoint:
        host = urllib.parse.urlsplit(endpoint).hostname
    else:
        host = endpoint.rsplit(":", 1)[0].strip("[]")
    if host != "localhost":
        try:
            if not ipaddress.ip_address(host).is_loopback:
                host = None
        except ValueError:
            host = None
    if host is None:
        raise SystemExit(f"endpoint {endpoint} is not on this machine (loopback only)")
    return host


class Timings:
    """Receive stamps waiting for their request, and the measured intervals."""

    def __init__(self, warmup_s):
        self.start_ns = None  # set when flumine starts
        self.warmup_ns = int(warmup_s * 1e9)
        self.by_ref = {}  # customerOrderRef -> (receive stamp, strategy stamp)
        # .stamps: (receive, strategy) stamps of the request this thread
        # is sending
        self.sending = threading.local()
        self.wire_ns = []
        # the two parts of wire_ns: change to the strategy's decision, and
        # the decision to the request written (flumine's execution pool)
        self.to_strategy_ns = []
        self.to_wire_ns = []
        # how long each placeOrders call took to be answered: the local
        # exchange answers once the placement takes effect, and meanwhile
        # the call holds one of flumine's execution threads
        self.answer_ns = []
        self.lock = threading.Lock()

    def wrote(self):
        """Called when a request has been written in this thread."""
        stamps = getattr(self.sending, "stamps", None)
        if stamps is None:
            return
        self.sending.stamps = None
        now = time.perf_counter_ns()
        if now - self.start_ns < self.warmup_ns:
            return
        received, decided = stamps
        with self.lock:
            self.wire_ns.append(now - received)
            self.to_strategy_ns.append(decided - received)
            self.to_wire_ns.append(now - decided)


class StampingQueue(queue.Queue):
    """The market stream's output queue: tags each market book put on it with
    the receive stamp of the line being processed (bflw puts the books of a
    line on this queue from the socket's thread, while handling that line)."""

    stamp = None

    def put(self, item, block=True, timeout=None):
        for book in item:
            book.received_ns = self.stamp
        super().put(item, block, timeout)


class TimedStream(BetfairStream):
    """bflw's stream, connected to host:port with the exchange's CA verified,
    stamping each chunk read off the socket."""

    def __init__(self, *args, addr, ssl_context, **kwargs):
        super().__init__(*args, **kwargs)
        self.addr = addr
        self.ssl_context = ssl_context

    def _create_socket(self):
        s = self.ssl_context.wrap_socket(
            socket.create_connection(self.addr, timeout=self.timeout),
            server_hostname=self.addr[0],
        )
        s.settimeout(self.timeout)
        return s

    def _receive_all(self):
        data = super()._receive_all()
        q = getattr(self.listener, "output_queue", None)
        if isinstance(q, StampingQueue):
            q.stamp = time.perf_counter_ns()
        return data


class LocalStreaming(Streaming):
    """APIClient.streaming for the local exchange: create_stream as bflw's,
    returning a TimedStream."""

    def __init__(self, parent, addr, ssl_context):
        super().__init__(parent)
        self.addr = addr
        self.ssl_context = ssl_context

    def create_stream(
        self, unique_id=0, listener=None, timeout=64, buffer_size=1024, host=None
    ):
        return TimedStream(
            unique_id,
            listener if listener else StreamListener(),
            app_key=self.client.app_key,
            session_token=self.client.session_token,
            timeout=timeout,
            buffer_size=buffer_size,
            host=host,
            addr=self.addr,
            ssl_context=self.ssl_context,
        )


class TimedMarketStream(MarketStream):
    """flumine's MarketStream with a StampingQueue as its output queue."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._output_queue = StampingQueue()
        self._listener.output_queue = self._output_queue


class TimedFlumine(Flumine):
    """flumine's live framework, noting the time and CPU used when its
    handler reaches the end of the run (after the changes queued before
    it), before it shuts down: livebench stops its clock there too."""

    ended = None

    def _process_end_flumine(self):
        self.ended = (time.perf_counter_ns(), resource.getrusage(resource.RUSAGE_SELF))
        super()._process_end_flumine()


class EveryNth(BaseStrategy):
    """livebench's strategy: on every Nth update of a market (counting every
    book flumine hands over), if it is OPEN and not in play, back its first
    ACTIVE runner for 2 at 1000."""

    def __init__(self, *args, every, timings, **kwargs):
        super().__init__(*args, **kwargs)
        self.every = every
        self.timings = timings
        self.updates = {}

    def check_market_book(self, market, market_book):
        return True

    def process_market_book(self, market, market_book):
        n = self.updates.get(market.market_id, 0) + 1
        self.updates[market.market_id] = n
        if n % self.every or market_book.status != "OPEN" or market_book.inplay:
            return
        for runner in market_book.runners:
            if runner.status == "ACTIVE":
                trade = Trade(market.market_id, runner.selection_id, runner.handicap, self)
                order = trade.create_order(side="BACK", order_type=LimitOrder(1000, 2))
                # A book that did not come off the stream (none should)
                # has no stamp and is not timed.
                received = getattr(market_book, "received_ns", None)
                if received is not None:
                    self.timings.by_ref[order.customer_order_ref] = (received, time.perf_counter_ns())
                market.place_order(order)
                return


def time_place_orders(trading, timings):
    """Wraps trading.betting.place_orders so that the thread sending a
    placement knows the receive stamp of the change that caused it."""
    place = trading.betting.place_orders

    def place_orders(market_id, instructions, *args, **kwargs):
        stamps = [timings.by_ref.pop(i.get("customerOrderRef"), None) for i in instructions]
        stamps = [s for s in stamps if s is not None]
        timings.sending.stamps = min(stamps) if stamps else None
        called = time.perf_counter_ns()
        try:
            return place(market_id, instructions, *args, **kwargs)
        finally:
            timings.sending.stamps = None
            answered = time.perf_counter_ns() - called
            if called - timings.start_ns >= timings.warmup_ns:
                with timings.lock:
                    timings.answer_ns.append(answered)

    trading.betting.place_orders = place_orders


def time_http_writes(timings):
    """Wraps http.client's endheaders, which writes a request (line, headers
    and body) to its connection, to tell timings when that is done."""
    endheaders = http.client.HTTPConnection.endheaders

    def timed_endheaders(self, *args, **kwargs):
        endheaders(self, *args, **kwargs)
        timings.wrote()

    http.client.HTTPConnection.endheaders = timed_endheaders


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--exchange-info", required=True, help="the JSON file trade serve --info wrote")
    p.add_argument("--duration", type=float, default=60, help="seconds to trade")
    p.add_argument("--every", type=int, default=10, help="place a bet on every Nth update of a market")
    p.add_argument("--warmup", type=float, default=5, help="seconds at the start left out (the markets' images)")
    p.add_argument("--workers", type=int, default=0,
                   help="flumine's execution threads (0: flumine's default, config.max_execution_workers)")
    p.add_argument("--breakdown", action="store_true",
                   help="also print the two parts (change to the strategy's bet, bet to request written) and how long answers took")
    args = p.parse_args()
    # flumine logs every order at INFO; warnings and errors stay visible.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    # The tapes' publish times are from the day they were recorded, so bflw
    # and flumine would warn of high latency on every change (a line to
    # stderr each): an artefact of replaying, not work flumine does live.
    for name in ("betfairlightweight.streaming.stream", "flumine.baseflumine"):
        logging.getLogger(name).setLevel(logging.ERROR)

    info = read_info(args.exchange_info, 30)
    stream_host = loopback_host(info["stream"])
    loopback_host(info["identity"])
    loopback_host(info["betting"])
    stream_port = int(info["stream"].rsplit(":", 1)[1])
    os.environ["REQUESTS_CA_BUNDLE"] = info["ca"]
    ctx = ssl.create_default_context(cafile=info["ca"])

    timings = Timings(args.warmup)
    # The local exchange has no accounts: these are placeholders.
    trading = betfairlightweight.APIClient("bench", "bench", app_key="flumine_live")
    trading.identity_uri = info["identity"].rstrip("/") + "/api/"
    trading.api_uri = info["betting"].rstrip("/") + "/exchange/"
    trading.streaming = LocalStreaming(trading, (stream_host, stream_port), ctx)
    time_place_orders(trading, timings)
    time_http_writes(timings)

    # transaction_limit=None: Betfair's hourly limit is not what is measured.
    kwargs = {}
    if args.workers:
        kwargs["execution_cls"] = functools.partial(BetfairExecution, max_workers=args.workers)
    client = clients.BetfairClient(trading, interactive_login=True, transaction_limit=None, **kwargs)
    framework = TimedFlumine(client=client)
    strategy = EveryNth(
        market_filter=streaming_market_filter(),
        market_data_filter=streaming_market_data_filter(fields=FIELDS),
        stream_class=TimedMarketStream,
        every=args.every,
        timings=timings,
        **LIMITS,
    )
    framework.add_strategy(strategy)

    def stop():
        time.sleep(args.duration)
        framework.handler_queue.put(events.TerminationEvent(framework))

    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter_ns()
    timings.start_ns = start
    threading.Thread(target=stop, daemon=True).start()
    framework.run()
    end_ns, after = framework.ended
    wall = (end_ns - start) / 1e9
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime

    with timings.lock:
        wire = sorted(timings.wire_ns)
        parts = (
            ("change to bet", sorted(timings.to_strategy_ns)),
            ("bet to wire", sorted(timings.to_wire_ns)),
            ("placeOrders answered in", sorted(timings.answer_ns)),
        )
    if not wire:
        raise SystemExit(
            f"no placement was made in {args.duration} s ({len(strategy.updates)} markets seen)"
        )

    def q(p, d=wire):
        return d[min(len(d) - 1, int(p * len(d)))]

    orders = sum(len(m.blotter) for m in framework.markets)
    print(f"markets with changes\t{len(strategy.updates)}")
    print(f"placeOrders requests\t{len(wire)} after the first {args.warmup:g}s ({orders} orders in all)")
    for name, v in (("median", q(0.5)), ("p90", q(0.9)), ("p99", q(0.99)), ("max", wire[-1])):
        print(f"tick-to-trade {name}\t{v / 1e6:.3f} ms")
    print(f"client CPU\t{cpu:.2f} s in {wall:.1f} s wall ({100 * cpu / wall:.1f}% of a core)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"client peak RSS\t{peak // 1024} MiB")
    if args.breakdown:
        for label, d in parts:
            if not d:
                continue
            print(f"{label} median, p90, p99\t" + ", ".join(f"{q(p, d) / 1e6:.3f}" for p in (0.5, 0.9, 0.99)) + " ms")


if __name__ == "__main__":
    sys.exit(main())
