package tradecli_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tapedeck/tapedeck/engine/strategies"
	"github.com/tapedeck/tapedeck/internal/testenv"
	"github.com/tapedeck/tapedeck/tradecli/tradeclitest"
)

// TestLiveAsAccount runs trade live logged in as an account, the way it
// logs in to Betfair (credentials from the environment and --config, the
// endpoints as flags), against a local exchange taking bets in lockstep:
// it trades as the backtest does, and no secret is in its output, its
// logs (at debug level) or any file it wrote.
func TestLiveAsAccount(t *testing.T) {
	const pass, appKey = "Acc0unt-Pa55word-41", "AppKey-7f3a9c2e1b"
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tapedeck.json")
	if err := os.WriteFile(cfg, []byte(`{"username":"someone","password":"`+pass+`","app_key":"`+appKey+`","jurisdiction":"com"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TAPEDECK_USERNAME", "")
	t.Setenv("TAPEDECK_PASSWORD", "")
	t.Setenv("TAPEDECK_APP_KEY", "")
	tapes := []string{testenv.Testdata(t, "tapes/1.197931750"), testenv.Testdata(t, "tapes/1.197931751")}
	out, got := tradeclitest.LiveAsAccountEqualsBacktest(t, strategies.Builtins(),
		[]string{"--strategy", "passive-back"}, []string{"--config", cfg, "--log-level", "debug"}, tapes, "1.197931750,1.197931751")
	if !strings.Contains(out, "orders          12 (10 matched") {
		t.Errorf("summary:\n%s", out)
	}
	// The status is logged as JSON (the output is no terminal), the
	// balance polled from the exchange's getAccountFunds.
	if !regexp.MustCompile(`"msg":"status","final":true,"markets":2,"open":0,"orders":12,"live":0,"matched":10,.*"balance":[0-9]`).MatchString(out) {
		t.Errorf("no final status with the balance logged:\n%s", out)
	}
	secret := func(where, s string) {
		for _, v := range []string{pass, appKey} {
			if strings.Contains(s, v) {
				t.Errorf("%s holds the secret %q", where, v)
			}
		}
	}
	secret("the output", out)
	err := filepath.WalkDir(got, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		secret(p, string(b))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
