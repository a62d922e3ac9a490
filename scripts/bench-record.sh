#!/usr/bin/env bash
# scripts/bench-record.sh — how fast, and in how much memory, `record run`
# records `trade serve --speed 0`, with 1,000 and then 2,000 markets open.
# Needs only Go (and bash). scripts/bench.sh calls it.
#
# The tapes are clones of real ones: testdata/tapes/1.197931750 and
# 1.197931751, and, when present, every member of Betfair's greyhound PRO tar
# in ${TAPEDECK_SHARED:-../shared}/data/historic. Each clone gets a market id
# (and event id) of its own and its publish times moved so that every clone
# starts within the same second: all of them are open at once, their changes
# interleaved. Every other byte is the source's.
#
#   scripts/bench-record.sh               1,000 then 2,000 markets
#   MARKETS="500" scripts/bench-record.sh  other counts
#   GREYHOUND_COPIES=1 scripts/bench-record.sh   fewer (heavier) greyhound clones
#   TMPDIR=/dev/shm scripts/bench-record.sh    tapes, spool and --dest on tmpfs
#                                             (takes the disk out of the figures)
#
# Figures, per run:
#   msgs/s          stream messages the recorder received (its
#                   tapedeck_record_messages_total) / wall seconds of the
#                   whole `record run` process, login to exit
#   CPU s per 1k msgs/s = CPU seconds used / (messages / 1000): the cores
#                   it would keep busy recording 1,000 messages a second
#   msgs per CPU s  = messages / CPU seconds: what one fully busy core
#                   records, whatever else the machine is doing
#   peak RSS        the recorder's maximum resident set (getrusage)
#   markets open    the highest tapedeck_record_markets_open seen
# The recorder runs with GOMAXPROCS=1 (one core busy); the exchange runs
# beside it on the other core.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
shared=${TAPEDECK_SHARED:-$root/../shared}
tarfile=$shared/data/historic/pro-greyhounds-2022-03-01.tar
markets_list=${MARKETS:-1000 2000}
work=$(mktemp -d)
server=""
recorder=""
cleanup() {
	[ -n "$recorder" ] && kill "$recorder" 2>/dev/null || true
	# $server is measure's pid: stop the trade serve it runs, by its pid.
	[ -n "$server" ] && kill "$(pgrep -P "$server")" 2>/dev/null && wait "$server" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/bin/" ./cmd/trade ./cmd/record
go build -o "$work/bin/measure" ./internal/tools/measure

# The cloning tool: standard library only, built outside the module.
mkdir -p "$work/clone"
cat > "$work/clone/main.go" <<'EOF'
// Command clone writes N tapes cloned from real ones: each clone's market id
// and event id rewritten, its publish times shifted so that all clones start
// at once (clone i starts i ms after the first); every other byte as read.
package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/bzip2"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

type base struct {
	name  string
	lines [][]byte
	id    string // market id
	pt0   int64  // first publish time
}

var (
	ptRe = regexp.MustCompile(`"pt":(\d+)`)
	idRe = regexp.MustCompile(`"id":"(1\.\d+)"`)
)

// replaceValues replaces, in l, each value that follows key and ends before
// end by what f makes of it.
func replaceValues(l []byte, key string, end byte, f func([]byte) []byte) []byte {
	if !bytes.Contains(l, []byte(key)) {
		return l
	}
	var out []byte
	for {
		i := bytes.Index(l, []byte(key))
		if i < 0 {
			return append(out, l...)
		}
		i += len(key)
		j := bytes.IndexByte(l[i:], end)
		if j < 0 {
			return append(out, l...)
		}
		out = append(append(out, l[:i]...), f(l[i:i+j])...)
		l = l[i+j:]
	}
}

func load(name string, r io.Reader) (*base, error) {
	b := &base{name: name}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		l := bytes.TrimSpace(sc.Bytes())
		if len(l) == 0 {
			continue
		}
		if b.id == "" {
			if m := idRe.FindSubmatch(l); m != nil {
				b.id = string(m[1])
			}
			if m := ptRe.FindSubmatch(l); m != nil {
				b.pt0, _ = strconv.ParseInt(string(m[1]), 10, 64)
			}
		}
		b.lines = append(b.lines, append([]byte(nil), l...))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if b.id == "" {
		return nil, fmt.Errorf("%s: no market id", name)
	}
	return b, nil
}

func main() {
	// clone OUTDIR N GREYHOUND_COPIES TAPE... [TAR]
	out := os.Args[1]
	n, _ := strconv.Atoi(os.Args[2])
	ghCopies, _ := strconv.Atoi(os.Args[3])
	var small, grey []*base
	for _, p := range os.Args[4:] {
		f, err := os.Open(p)
		if err != nil {
			fail(err)
		}
		if !strings.HasSuffix(p, ".tar") {
			b, err := load(p, f)
			if err != nil {
				fail(err)
			}
			small = append(small, b)
			f.Close()
			continue
		}
		tr := tar.NewReader(f)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				fail(fmt.Errorf("%s: %w", p, err))
			}
			if h.Typeflag != tar.TypeReg || !strings.HasSuffix(h.Name, ".bz2") {
				continue
			}
			b, err := load(p+":"+h.Name, bzip2.NewReader(tr))
			if err != nil {
				fail(err)
			}
			grey = append(grey, b)
		}
		f.Close()
	}
	// The greyhound markets (thousands of changes each) GREYHOUND_COPIES
	// times, the two small markets (166 changes each) for the rest.
	var plan []*base
	for c := 0; c < ghCopies; c++ {
		for _, b := range grey {
			if len(plan) < n/2 {
				plan = append(plan, b)
			}
		}
	}
	for i := 0; len(plan) < n; i++ {
		plan = append(plan, small[i%len(small)])
	}
	const start = 1700000000000   // every clone starts here (+ its index in ms)
	events := map[string]string{} // source event id and copy number -> new event id
	uses := map[*base]int{}
	changes := 0
	for i, b := range plan {
		id := fmt.Sprintf("1.%d", 900000000+i)
		copyNo := uses[b]
		uses[b]++
		shift := start + int64(i) - b.pt0
		var buf bytes.Buffer
		for _, l := range b.lines {
			l = bytes.ReplaceAll(l, []byte(`"id":"`+b.id+`"`), []byte(`"id":"`+id+`"`))
			l = replaceValues(l, `"eventId":"`, '"', func(old []byte) []byte {
				key := string(old) + "/" + strconv.Itoa(copyNo)
				ev, ok := events[key]
				if !ok {
					ev = strconv.Itoa(800000000 + len(events))
					events[key] = ev
				}
				return []byte(ev)
			})
			l = replaceValues(l, `"pt":`, ',', func(old []byte) []byte {
				v, _ := strconv.ParseInt(string(old), 10, 64)
				return strconv.AppendInt(nil, v+shift, 10)
			})
			buf.Write(l)
			buf.WriteByte('\n')
			changes++
		}
		if err := os.WriteFile(filepath.Join(out, id), buf.Bytes(), 0o644); err != nil {
			fail(err)
		}
	}
	fmt.Printf("%d tapes, %d lines (%d greyhound clones)\n", len(plan), changes, min(len(plan), ghCopies*len(grey), n/2))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "clone:", err)
	os.Exit(1)
}
EOF
(cd "$work/clone" && GOFLAGS= GO111MODULE=off go build -o "$work/bin/clone" main.go)

# metric NAME FILE: a metric's value in a /metrics scrape.
metric() { awk -v n="$1" '$1 == n { print $2 }' "$2"; }

# scrape ADDR FILE: GET /metrics with bash's /dev/tcp (no curl needed).
scrape() {
	local host=${1%:*} port=${1##*:}
	{ exec 3<>"/dev/tcp/$host/$port" && printf 'GET /metrics HTTP/1.0\r\nHost: %s\r\n\r\n' "$1" >&3 && cat <&3 > "$2.tmp" && exec 3<&-; } 2>/dev/null &&
		mv "$2.tmp" "$2"
}

sources=("$root/testdata/tapes/1.197931750" "$root/testdata/tapes/1.197931751")
if [ -f "$tarfile" ]; then
	sources+=("$tarfile")
else
	echo "($tarfile absent: cloning the two bundled tapes only)"
fi

results=$work/results.tsv
for n in $markets_list; do
	run=$work/run$n
	mkdir -p "$run/tapes" "$run/dest" "$run/spool"
	echo "== $n markets: cloning $(basename -a "${sources[@]}" | paste -sd' ')"
	"$work/bin/clone" "$run/tapes" "$n" "${GREYHOUND_COPIES:-2}" "${sources[@]}"

	"$work/bin/measure" -quiet=false -label "trade serve, $n markets" -- \
		"$work/bin/trade" serve "$run/tapes" --speed 0 --info "$run/exchange.json" --log-level warn > "$run/serve.out" 2> "$run/serve.err" &
	server=$!
	for _ in $(seq 1 600); do
		[ -s "$run/exchange.json" ] && break
		kill -0 "$server" 2>/dev/null || { cat "$run/serve.err" >&2; exit 1; }
		sleep 0.1
	done
	head -1 "$run/serve.out"

	t0=$(date +%s.%N)
	GOMAXPROCS=1 "$work/bin/measure" -label "record run, $n markets" -- \
		"$work/bin/record" run --exchange-info "$run/exchange.json" --compress zstd \
		--dest "$run/dest" --spool "$run/spool" --close-grace 100ms \
		--metrics-addr 127.0.0.1:0 --log-level info > "$run/measure.out" 2> "$run/record.err" &
	measurer=$!
	for _ in $(seq 1 100); do
		recorder=$(pgrep -P "$measurer" || true)
		[ -n "$recorder" ] && break
		sleep 0.05
	done
	addr=""
	for _ in $(seq 1 200); do
		addr=$(grep -o '"msg":"serving metrics","addr":"[^"]*"' "$run/record.err" | sed 's/.*"addr":"//; s/"$//' || true)
		[ -n "$addr" ] && break
		sleep 0.05
	done
	[ -n "$addr" ] || { echo "record run did not start:" >&2; cat "$run/record.err" >&2; exit 1; }

	# Done when every market's tape is in --dest, or (should some market
	# never close) when nothing has been recorded for 5 s.
	peak=0 last=-1 idle=0 tlast=0
	while kill -0 "$recorder" 2>/dev/null; do
		sleep 0.2
		scrape "$addr" "$run/metrics" || continue
		open=$(metric tapedeck_record_markets_open "$run/metrics")
		msgs=$(metric tapedeck_record_messages_total "$run/metrics")
		[ "${open%.*}" -gt "$peak" ] && peak=${open%.*}
		if [ "$msgs" = "$last" ]; then idle=$((idle + 1)); else idle=0 last=$msgs tlast=$(date +%s.%N); fi
		done_=$(find "$run/dest" -name '*.jsonl.zst' | wc -l)
		[ "$done_" -ge "$n" ] && break
		[ "$idle" -ge 25 ] && { echo "(recording idle 5 s with $done_ of $n tapes stored: stopping)"; break; }
	done
	scrape "$addr" "$run/metrics"
	kill -TERM "$recorder" 2>/dev/null || true
	wait "$measurer" || { echo "record run failed:" >&2; tail -5 "$run/record.err" >&2; exit 1; }
	recorder=""
	kill -TERM "$(pgrep -P "$server")" && wait "$server" 2>/dev/null || true
	server=""
	IFS=$'\t' read -r _ swall scpu srss < <(tail -1 "$run/serve.out")

	msgs=$(metric tapedeck_record_messages_total "$run/metrics")
	changes=$(metric tapedeck_record_market_changes_total "$run/metrics")
	bytes=$(metric tapedeck_record_bytes_total "$run/metrics")
	stored=$(find "$run/dest" -name '*.jsonl.zst' | wc -l)
	IFS=$'\t' read -r label wall cpu rss < "$run/measure.out"
	awk -v l="$label" -v w="$wall" -v c="$cpu" -v r="$rss" -v m="$msgs" -v ch="$changes" -v p="$peak" -v s="$stored" -v t0="$t0" -v tl="$tlast" -v sc="$scpu" -v by="$bytes" 'BEGIN {
		st = tl - t0
		printf "%s\t%d\t%d\t%.0f\t%.1f\t%.1f\t%.2f\t%.0f\t%.0f\t%.3f\t%.0f\t%.1f\t%d\t%d\t%.1f\n", l, m, ch, by / 1048576, w, st, c, m / w, m / st, c / (m / 1000), m / c, r, p, s, sc
	}' >> "$results"
	rm -rf "$run"
done

echo
echo "== record run against trade serve --speed 0, zstd, recorder on GOMAXPROCS=1"
{
	printf 'run\tmessages\ttape lines\tMiB in\twall s\tstream s\tcpu s\tmsgs/s (wall)\tmsgs/s (stream)\tCPU s per 1k msgs/s\tmsgs per CPU s\tpeak RSS MiB\tmarkets open (peak)\ttapes stored\tserver cpu s\n'
	cat "$results"
} | column -t -s$'\t'
echo "msgs/s = messages / wall s (stream s: until the message count stopped growing, 0.2 s resolution); CPU s per 1k msgs/s = cpu s / (messages / 1000);"
echo "msgs per CPU s = messages / cpu s, the rate one fully busy core sustains. Load average now: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
echo "(other work on the machine slows the wall-clock figures, not the CPU ones)."
echo "Targets: >= 50,000 msgs/s with 1,000 markets open; peak RSS < 200 MiB with 2,000 open."
