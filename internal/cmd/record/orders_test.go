package record

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/tapedeck/tapedeck/engine/esa"
	"github.com/tapedeck/tapedeck/engine/exchange"
	"github.com/tapedeck/tapedeck/internal/testenv"
	"github.com/tapedeck/tapedeck/store"
)

// orderChanges returns the raw oc elements of tape bytes, in order.
func orderChanges(t *testing.T, b []byte) []string {
	t.Helper()
	var out []string
	dec := esa.NewDecoder()
	var m esa.Message
	for i, l := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		m.Reset()
		if err := dec.Decode(l, &m); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		for _, oc := range m.OC {
			out = append(out, string(oc.Raw))
		}
	}
	return out
}

// TestEndToEndOrders: the local exchange serves a real order stream tape
// beside the market tapes; record run --orders stores an order tape whose
// order changes are the source's, line for line, and the market tapes as
// usual.
func TestEndToEndOrders(t *testing.T) {
	orderTape := testenv.Testdata(t, "tapes/ORDER-1.177596575")
	b, err := os.ReadFile(orderTape)
	if err != nil {
		t.Fatal(err)
	}
	wantOrders := orderChanges(t, b)
	var tapes []string
	sources := map[string][]string{}
	for _, name := range []string{"1.197931750", "1.197931751"} {
		p := testenv.Shared(t, "data/streams/"+name)
		tapes = append(tapes, p)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range marketChanges(t, b) {
			sources[k] = v
		}
	}
	dir := t.TempDir()
	ex, err := exchange.New(exchange.Config{Tapes: append(tapes, orderTape), Catalogues: []string{testenv.Testdata(t, "catalogues")},
		CertFile: filepath.Join(dir, "cert.pem")})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { ex.Serve(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	info := filepath.Join(dir, "info.json")
	if err := ex.WriteInfo(info); err != nil {
		t.Fatal(err)
	}

	dest, spool := t.TempDir(), t.TempDir()
	st, _ := store.NewDir(dest)
	root := newRootCmd()
	root.SetArgs([]string{"run", "--orders", "--exchange-info", info, "--spool", spool, "--dest", dest,
		"--close-grace", "10ms", "--sync", "20ms", "--log-level", "error"})
	root.SetOut(io.Discard)
	rctx, rcancel := context.WithCancel(context.Background())
	defer rcancel()
	errc := make(chan error, 1)
	go func() { errc <- root.ExecuteContext(rctx) }()
	var orderKey string
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		objs, _ := st.List(context.Background(), "")
		markets := 0
		for _, o := range objs {
			switch {
			case strings.HasSuffix(o.Key, ".orders.jsonl.zst"):
				orderKey = o.Key
			case strings.HasSuffix(o.Key, ".jsonl.zst"):
				markets++
			}
		}
		closed, _ := os.ReadDir(filepath.Join(spool, "closed"))
		if orderKey != "" && markets >= len(sources) && len(closed) == 0 {
			break
		}
		select {
		case err := <-errc:
			t.Fatalf("record run ended early: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 60 s: order tape %q, %d market tapes of %d", orderKey, markets, len(sources))
		}
	}
	rcancel()
	if err := <-errc; err != nil {
		t.Fatalf("record run: %v", err)
	}
	rc, err := st.Open(context.Background(), orderKey)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	zr, err := zstd.NewReader(rc)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	got, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: %v", orderKey, err)
	}
	if g, w := strings.Join(orderChanges(t, got), "\n"), strings.Join(wantOrders, "\n"); g != w {
		t.Errorf("order tape %s holds\n%s\nwant\n%s", orderKey, g, w)
	}
	if !strings.HasSuffix(orderKey, "/1.177596575.orders.jsonl.zst") {
		t.Errorf("order tape key %s", orderKey)
	}
	// Market tapes are unchanged by the order subscription beside them.
	objs, _ := st.List(context.Background(), "")
	for _, o := range objs {
		if strings.HasPrefix(o.Key, "orders/") {
			if err := st.Delete(context.Background(), o.Key); err != nil {
				t.Fatal(err)
			}
		}
	}
	checkRecorded(t, st, "", sources)
}
