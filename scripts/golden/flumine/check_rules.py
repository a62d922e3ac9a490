#!/usr/bin/env python3
"""Independent re-implementation of docs/flumine-notes.md, checked against
the golden orders.

It imports neither flumine nor betfairlightweight: it rebuilds books from the
raw stream lines, runs the two reference strategies and the simulator rules
as the notes state them, and compares every order with
testdata/golden/flumine/. If it agrees, the notes are a sufficient spec for
engine/sim's `flumine` model; where it does not, the notes are missing a rule.

Scope: LIMIT orders (the only type the reference strategies place), place
and cancel requests, traded-volume matching, lapse, non-runner voids and
reduction factors, settlement and commission. No BSP, update or replace.

  check_rules.py --strategy passive-back --golden DIR/SET FILE...
"""

import argparse
import bz2
import gzip
import json
import os
import subprocess
import sys
from datetime import datetime, timezone

PLACE_LATENCY, CANCEL_LATENCY = 0.120, 0.170


def open_lines(path):
    if path.endswith(".bz2"):
        return bz2.open(path, "rt")
    if path.endswith(".gz"):
        return gzip.open(path, "rt")
    return open(path)


def market_time_ms(s):
    return int(
        datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ")
        .replace(tzinfo=timezone.utc)
        .timestamp()
        * 1000
    )


class Ladder:
    """price (or position) -> [price, size]; sorted like bflw's Available."""

    def __init__(self, idx, reverse):
        self.idx, self.reverse, self.book = idx, reverse, {}

    def update(self, changes):
        for c in changes:
            if c[self.idx] == 0:
                self.book.pop(c[0], None)
            else:
                self.book[c[0]] = (c[self.idx - 1], c[self.idx])

    def levels(self):
        return [
            {"price": v[0], "size": v[1]}
            for _, v in sorted(self.book.items(), reverse=self.reverse)
        ]


class Runner:
    def __init__(self, sid, hc):
        self.sid, self.hc = sid, hc
        self.status = self.bsp = self.af = self.ltp = None
        self.atb, self.atl = Ladder(1, True), Ladder(1, False)
        self.bdatb, self.bdatl = Ladder(2, False), Ladder(2, False)
        self.batb, self.batl = Ladder(2, False), Ladder(2, False)
        self.trd = Ladder(1, False)

    def apply(self, rc):
        if "ltp" in rc:
            self.ltp = rc["ltp"]
        if "trd" in rc:
            if not rc["trd"]:
                self.trd.book = {}
            else:
                self.trd.update(rc["trd"])
        for k in ("atb", "atl", "bdatb", "bdatl", "batb", "batl"):
            if k in rc:
                getattr(self, k).update(rc[k])

    def snap(self):
        back = self.atb.levels() or self.bdatb.levels() or self.batb.levels()
        lay = self.atl.levels() or self.bdatl.levels() or self.batl.levels()
        return {
            "sid": self.sid, "hc": self.hc, "status": self.status, "ltp": self.ltp,
            "atb": back, "atl": lay, "trd": self.trd.levels(), "af": self.af,
        }


class Cache:
    def __init__(self):
        self.reset()

    def reset(self):
        self.md, self.runners, self.rd = {}, [], {}

    def apply(self, mc):
        if mc.get("img"):
            self.reset()
        if "marketDefinition" in mc:
            self.md = mc["marketDefinition"]
            for rd in self.md.get("runners", []):
                r = self._runner(rd["id"], rd.get("hc", 0))
                r.status, r.bsp, r.af = rd.get("status"), rd.get("bsp"), rd.get("adjustmentFactor")
        for rc in mc.get("rc", []):
            key = (rc["id"], rc.get("hc", 0))
            if key in self.rd:
                self.rd[key].apply(rc)
            else:
                self._runner(*key).apply(rc)

    def _runner(self, sid, hc):
        r = self.rd.get((sid, hc))
        if r is None:
            r = self.rd[(sid, hc)] = Runner(sid, hc)
            self.runners.append(r)
        return r

    def book(self, pt):
        md = self.md
        return {
            "pt": pt, "status": md.get("status"), "inplay": md.get("inPlay"),
            "version": md.get("version"), "bet_delay": md.get("betDelay", 0),
            "market_time": market_time_ms(md["marketTime"]),
            "market_type": md.get("marketType"), "n_winners": md.get("numberOfWinners"),
            "runners": [r.snap() for r in self.runners],
        }


def wap(matched):
    a = sum(p * s for _, p, s in matched)
    b = sum(s for _, _, s in matched)
    if not matched or a == 0 or b == 0:
        return 0, 0
    return round(b, 2), round(a / b, 2)


def elapsed_gt(now_ms, then_ms, delay):
    # timedelta.total_seconds() of a whole number of ms, as flumine compares
    return ((now_ms - then_ms) * 1000) / 10**6 > delay


class Order:
    def __init__(self, market_id, seq, sid, hc, side, price, size, pt):
        self.market_id, self.seq, self.sid, self.hc = market_id, seq, sid, hc
        self.side, self.price, self.size, self.placed_pt = side, price, size, pt
        self.status = "PENDING"
        self.matched, self.size_matched, self.avg = [], 0, 0
        self.cancelled = self.lapsed = self.voided = 0.0
        self.piq, self.piq_at_place, self.version = 0.0, None, None
        self.executed_pt = None
        self.runner_status, self.dh = None, 1
        self.error = None

    @property
    def remaining(self):
        return round(self.size - self.size_matched - self.cancelled - self.lapsed - self.voided, 2)

    def fill(self, rec):
        self.matched.append(rec)
        self.size_matched, self.avg = wap(self.matched)

    def place(self, book, clock):
        self.executed_pt = clock
        if book["status"] != "OPEN":
            self.voided += self.remaining
            self.error = "ERROR_IN_ORDER"
            return False
        self.version = book["version"]
        r = next(x for x in book["runners"] if (x["sid"], x["hc"]) == (self.sid, self.hc))
        if r["status"] == "REMOVED":
            self.voided += self.remaining
            self.error = "RUNNER_REMOVED"
            return False
        if self.side == "BACK":
            best = r["atb"][0]["price"] if r["atb"] else 1.01
            if best >= self.price:
                self._cross(book["pt"], r["atb"], lambda lvl: self.price <= lvl)
                self.piq_at_place = self.piq
                return True
            queue = r["atl"]
        else:
            best = r["atl"][0]["price"] if r["atl"] else 1000
            if best <= self.price:
                self._cross(book["pt"], r["atl"], lambda lvl: self.price >= lvl)
                self.piq_at_place = self.piq
                return True
            queue = r["atb"]
        for lvl in queue:
            if lvl["price"] == self.price:
                self.piq = lvl["size"]
                break
        self.piq_at_place = self.piq
        return True

    def _cross(self, pt, ladder, ok):
        left = self.size
        for lvl in ladder:
            if left == 0 or not ok(lvl["price"]):
                break
            take = left if left - lvl["size"] <= 0 else lvl["size"]
            left = max(left - lvl["size"], 0)
            self.fill([pt, lvl["price"], round(take, 2)])

    def match(self, book, traded):
        for tp, ts in list(traded.items()):
            if (self.side == "BACK" and tp >= self.price) or (self.side == "LAY" and tp <= self.price):
                half = ts / 2
                if self.piq - half < 0:
                    size = round(min(self.remaining, half - self.piq), 2)
                    if size:
                        self.fill([book["pt"], self.price, size])
                    used = (self.piq + size) * 2
                    self.piq = 0
                else:
                    self.piq -= half
                    used = ts
                if used:
                    traded[tp] = max(ts - used, 0.0)
        if book["version"] != self.version:
            self.version = book["version"]
            if book["status"] == "SUSPENDED":
                self.lapsed += self.remaining

    @property
    def profit(self):
        n = self.dh
        if self.runner_status == "WINNER":
            p = (self.size_matched / n) * (self.avg - 1)
            if n >= 2:
                p -= self.size_matched * (n - 1) / n
            return round(-p if self.side == "LAY" else p, 2)
        if self.runner_status == "LOSER":
            return -self.size_matched if self.side == "BACK" else self.size_matched
        return 0.0


class Sim:
    def __init__(self, strategy):
        self.strategy = strategy
        self.removals_seen = []  # shared across markets, as in flumine
        self.orders = []

    def run_market(self, path):
        cache, prev, pending, orders = Cache(), None, [], []
        analytics = {}  # (sid, hc) -> (last trd list, {price: size})
        # runner key -> trade count, and the set of its live trades (orders):
        # a set, because flumine's RunnerContext.reset of a trade that is no
        # longer live (a cancel completing an already filled order) is a no-op
        trades, live = {}, {}
        market_id = None
        for line in open_lines(path):
            d = json.loads(line)
            mc = d["mc"][0]
            market_id = mc["id"]
            cache.apply(mc)
            book = cache.book(d["pt"])
            clock = d["pt"]
            # 2. due requests against the previous book
            due = [p for p in pending if elapsed_gt(clock, p[0], p[1])]
            for p in due:
                pending.remove(p)
                kind, o = p[2], p[3]
                if kind == "place":
                    ok = o.place(prev, clock)
                    o.piq_at_place = o.piq
                    if ok:
                        o.status = "EXECUTABLE"
                        if o.remaining == 0:
                            o.status = "EXECUTION_COMPLETE"
                    else:
                        o.status = "EXECUTION_COMPLETE"
                    if o.status == "EXECUTION_COMPLETE":
                        live[(o.sid, o.hc)].discard(o.seq)
                else:  # cancel
                    if prev["status"] != "OPEN":
                        o.status = "EXECUTABLE"
                    else:
                        o.cancelled += o.remaining
                        o.status = "EXECUTION_COMPLETE" if o.remaining == 0 else "EXECUTABLE"
                        if o.status == "EXECUTION_COMPLETE":
                            live[(o.sid, o.hc)].discard(o.seq)
            if book["status"] == "CLOSED":
                self._settle(book, orders)
                break
            # 5. middleware
            traded_now = {}
            for r in book["runners"]:
                key = (r["sid"], r["hc"])
                if r["status"] == "ACTIVE":
                    if key not in analytics:
                        analytics[key] = [r["trd"], {x["price"]: x["size"] for x in r["trd"]}, {}]
                    a = analytics[key]
                    if a[0] == r["trd"]:
                        a[2] = {}
                    else:
                        cv = {x["price"]: x["size"] for x in r["trd"]}
                        t = {}
                        for k, v in cv.items():
                            if k in a[1]:
                                nv = float(v) - float(a[1][k])
                                if nv > 0:
                                    t[k] = round(nv, 2)
                            else:
                                t[k] = v
                        a[1], a[0], a[2] = cv, r["trd"], t
                elif r["status"] == "REMOVED":
                    rem = (r["sid"], r["hc"], r["af"])
                    if rem not in self.removals_seen:
                        self.removals_seen.append(rem)
                        self._removal(orders, rem)
            live_orders = [o for o in orders if o.status in ("EXECUTABLE", "CANCELLING")]
            if live_orders:
                copies = {k: dict(v[2]) for k, v in analytics.items()}
                lays = sorted([o for o in live_orders if o.side == "LAY"], key=lambda o: -o.price)
                backs = sorted([o for o in live_orders if o.side == "BACK"], key=lambda o: o.price)
                for o in lays + backs:
                    o.match(book, copies[(o.sid, o.hc)])
            # 6. housekeeping and process_orders
            for o in orders:
                if o.status != "EXECUTION_COMPLETE" and o.remaining == 0:
                    o.status = "EXECUTION_COMPLETE"
                    live[(o.sid, o.hc)].discard(o.seq)
            # cancels pass flumine's MarketValidation only while OPEN
            if orders and self.strategy == "lowest-layer" and book["status"] == "OPEN":
                for o in orders:
                    if o.status == "EXECUTABLE" and o.executed_pt is not None and elapsed_gt(clock, o.executed_pt, 2):
                        o.status = "CANCELLING"
                        pending.append((clock, CANCEL_LATENCY, "cancel", o))
            # 7. strategy
            for o in self._strategy(book, market_id, trades, live, len(orders)):
                orders.append(o)
                pending.append((clock, PLACE_LATENCY + book["bet_delay"], "place", o))
            prev = book
        self.orders.extend(orders)
        return market_id, orders

    def _strategy(self, book, market_id, trades, live, seq):
        out = []
        if book["status"] != "OPEN":
            return out

        def new(r, side, price):
            key = (r["sid"], r["hc"])
            trades[key] = trades.get(key, 0) + 1
            live.setdefault(key, set()).add(seq + len(out))
            o = Order(market_id, seq + len(out), r["sid"], r["hc"], side, price, 2.0, book["pt"])
            out.append(o)

        if self.strategy == "passive-back":
            if book["inplay"] or (book["market_time"] - book["pt"]) / 1000 > 180:
                return out
            for r in book["runners"]:
                if r["status"] != "ACTIVE" or not r["atb"] or not r["atl"]:
                    continue
                if trades.get((r["sid"], r["hc"]), 0) == 0:
                    new(r, "BACK", r["atl"][0]["price"])
        else:
            if not book["inplay"]:
                return out
            prices = [(r, r["ltp"]) for r in book["runners"] if r["status"] == "ACTIVE" and r["ltp"]]
            if not prices:
                return out
            prices.sort(key=lambda t: t[1])
            r, ltp = prices[0]
            if ltp > 3 or live.get((r["sid"], r["hc"])) or not r["atl"]:
                return out
            new(r, "LAY", r["atl"][0]["price"])
        return out

    def _removal(self, orders, rem):
        sid, hc, af = rem
        for o in orders:
            if (o.sid, o.hc) == (sid, hc):
                o.matched, o.size_matched, o.avg = [], 0, 0
                o.voided = o.size
            elif af and af >= 2.5:
                for m in o.matched:
                    m[1] = max(round(m[1] * (1 - af / 100), 2), 1.01)
                _, o.avg = wap(o.matched)

    def _settle(self, book, orders):
        winners = sum(1 for r in book["runners"] if r["status"] == "WINNER")
        status = {(r["sid"], r["hc"]): r["status"] for r in book["runners"]}
        for o in orders:
            o.runner_status = status.get((o.sid, o.hc))
            if book["n_winners"] == 0:
                o.dh = 1
            elif winners > book["n_winners"] == 1:
                o.dh = winners
            else:
                o.dh = 1


def load_golden(prefix):
    plain = prefix + ".orders.jsonl"
    if os.path.exists(plain):
        with open(plain) as fh:
            return [json.loads(x) for x in fh]
    out = subprocess.run(
        ["zstd", "-dc", plain + ".zst"], capture_output=True, text=True, check=True
    ).stdout
    return [json.loads(x) for x in out.splitlines()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--strategy", required=True)
    ap.add_argument("--golden", required=True, help="path prefix, e.g. testdata/golden/flumine/passive-back/streams")
    ap.add_argument("--commission", type=float, default=0.05)
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    sim = Sim(args.strategy)
    markets = {}
    for f in sorted(args.files):
        mid, orders = sim.run_market(f)
        markets[mid] = orders
    mine = sorted(sim.orders, key=lambda o: (o.market_id, o.seq))
    golden = load_golden(args.golden)
    keys = [("selection_id", "sid"), ("side", "side"), ("price", "price"), ("placed_pt", "placed_pt"),
            ("executed_pt", "executed_pt"), ("size_matched", "size_matched"),
            ("average_price_matched", "avg"), ("size_cancelled", "cancelled"), ("size_lapsed", "lapsed"),
            ("size_voided", "voided"), ("piq_at_place", "piq_at_place"), ("profit", "profit"),
            ("status", "status"), ("matched", "matched")]
    bad = 0
    if len(mine) != len(golden):
        print(f"order count: mine {len(mine)} golden {len(golden)}")
    for o, g in zip(mine, golden):
        diffs = []
        if (o.market_id, o.seq) != (g["market_id"], g["seq"]):
            diffs.append(("market/seq", (o.market_id, o.seq), (g["market_id"], g["seq"])))
        for gk, ok in keys:
            mv, gv = getattr(o, ok), g[gk]
            if isinstance(gv, float) or isinstance(mv, float):
                if gv is None or mv is None or abs(mv - gv) > 1e-9:
                    diffs.append((gk, mv, gv))
            elif mv != gv:
                diffs.append((gk, mv, gv))
        if diffs:
            bad += 1
            if bad <= 10:
                print(g["market_id"], g["seq"], diffs)
    # per-market P&L
    gm = {}
    with open(args.golden + ".markets.jsonl") as fh:
        for line in fh:
            m = json.loads(line)
            gm[m["market_id"]] = m
    pl_bad = 0
    for mid, orders in markets.items():
        profit = round(sum(o.profit for o in orders if o.size_matched > 0), 2)
        commission = round(max(profit * args.commission, 0), 2)
        if abs(profit - gm[mid]["profit"]) > 1e-9 or abs(commission - gm[mid]["commission"]) > 1e-9:
            pl_bad += 1
            print("market", mid, "profit", profit, gm[mid]["profit"], "commission", commission, gm[mid]["commission"])
    print(json.dumps({"golden": args.golden, "orders": len(golden), "mine": len(mine),
                      "orders_differing": bad, "markets": len(markets), "markets_differing": pl_bad}))
    return 1 if bad or pl_bad or len(mine) != len(golden) else 0


if __name__ == "__main__":
    sys.exit(main())
