package login

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tapedeck/tapedeck/internal/cli"
)

// TestConfigReadableByOthers: a --config file group or others may read is
// refused with exit 2 and the chmod to run, as ssh refuses such a key.
func TestConfigReadableByOthers(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		mode os.FileMode
		ok   bool
	}{{0o600, true}, {0o400, true}, {0o640, false}, {0o644, false}, {0o604, false}} {
		p := filepath.Join(dir, "tapedeck.json")
		os.Remove(p)
		if err := os.WriteFile(p, []byte(`{"username":"u","password":"secret-pw"}`), 0o600); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, tc.mode)
		_, err := (&Flags{Config: p}).Credentials()
		if tc.ok {
			if err != nil {
				t.Errorf("mode %04o: %v", tc.mode, err)
			}
			continue
		}
		if err == nil || cli.ExitCode(err) != cli.ExitUsage || !strings.Contains(err.Error(), "chmod 600 "+p) || strings.Contains(err.Error(), "secret-pw") {
			t.Errorf("mode %04o: err = %v, want exit 2 with the chmod to run", tc.mode, err)
		}
	}
}

// TestCredentials: flags win over the environment, which wins over the
// config file; a bad config file is reported without its content.
func TestCredentials(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	os.WriteFile(good, []byte(`{"app_key":"file-key","username":"file-user","password":"file-pass","cert":"file.crt","key":"file.key","jurisdiction":"com.au"}`), 0o600)
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"password":"s3cret-in-bad-file", "pasword":"typo"}`), 0o600)

	t.Setenv("TAPEDECK_USERNAME", "env-user")
	t.Setenv("TAPEDECK_PASSWORD", "env-pass")
	cf := Flags{Config: good}
	cf.Given.Password = "flag-pass"
	c, err := cf.Credentials()
	if err != nil {
		t.Fatal(err)
	}
	want := Credentials{AppKey: "file-key", Username: "env-user", Password: "flag-pass", Cert: "file.crt", Key: "file.key", Jurisdiction: "com.au"}
	if c != want {
		t.Errorf("resolved %+v, want %+v", c, want)
	}
	var ep Flags
	e, _, local, err := ep.Endpoints(context.Background(), &c)
	if err != nil || local || e.Identity != "https://identitysso.betfair.com.au" {
		t.Errorf("endpoints %+v, %v", e, err)
	}

	_, err = (&Flags{Config: bad}).Credentials()
	if err == nil || cli.ExitCode(err) != cli.ExitUsage || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("bad config: %v", err)
	}
}
