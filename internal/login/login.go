// Package login holds the flags that say as whom and where a command logs in
// to Betfair (or to a local exchange, trade serve): the account's
// credentials from flags, environment or a --config file, the jurisdiction
// and endpoint overrides, and --exchange-info. record run, trade paper and
// trade live share them, so that all three take an account the same way.
package login

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/tapedeck/tapedeck/engine/betting"
	"github.com/tapedeck/tapedeck/engine/exchange"
	"github.com/tapedeck/tapedeck/internal/cli"
)

// Credentials are the account's secrets and where to log in. Flags win
// over the environment, which wins over the config file.
type Credentials struct {
	AppKey       string `json:"app_key"`
	Username     string `json:"username"`
	Password     string `json:"password"`
	Cert         string `json:"cert"`
	Key          string `json:"key"`
	Jurisdiction string `json:"jurisdiction"`
}

// ConfigFile reads the JSON credentials file (--config); "" reads nothing.
func ConfigFile(path string) (Credentials, error) {
	var c Credentials
	if path == "" {
		return c, nil
	}
	if err := checkPrivate(path); err != nil {
		return c, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return c, &cli.UsageError{Err: fmt.Errorf("--config: %w", err)}
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		// Never quote the file: it holds the password.
		return c, &cli.UsageError{Err: fmt.Errorf("--config %s: not a JSON object of app_key, username, password, cert, key, jurisdiction", path)}
	}
	return c, nil
}

// checkPrivate refuses a credentials file that group or others may read,
// as ssh refuses such a private key: the password in it is then no secret.
func checkPrivate(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return &cli.UsageError{Err: fmt.Errorf("--config: %w", err)}
	}
	// Windows reports no group or other bits worth checking.
	if perm := fi.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return &cli.UsageError{Err: fmt.Errorf("--config %s: mode %04o lets group or others read the password; run: chmod 600 %s", path, perm, path)}
	}
	return nil
}

// Flags are the credential and endpoint flags. Secrets are better given in
// the environment or the config file, which ps and shell history do not
// show.
type Flags struct {
	// Config is the --config file; Given the credentials given as flags.
	Config string
	Given  Credentials

	Jurisdiction string
	Identity     string
	Betting      string
	Stream       string
	CA           string
	// ExchangeInfo is the file trade serve --info wrote: the local
	// exchange to use instead of Betfair.
	ExchangeInfo string
	InfoWait     time.Duration
}

// Add registers the flags on f; verb says what the command does with a
// local exchange ("record from", "trade on").
func (fl *Flags) Add(f *pflag.FlagSet, verb string) {
	f.StringVar(&fl.Config, "config", "", "JSON file with app_key, username, password, cert, key, jurisdiction")
	f.StringVar(&fl.Given.AppKey, "app-key", "", "application key (or TAPEDECK_APP_KEY)")
	f.StringVar(&fl.Given.Username, "username", "", "account username (or TAPEDECK_USERNAME)")
	f.StringVar(&fl.Given.Password, "password", "", "account password (prefer TAPEDECK_PASSWORD or --config: flags show in ps)")
	f.StringVar(&fl.Given.Cert, "cert", "", "client certificate for certificate login (or TAPEDECK_CERT)")
	f.StringVar(&fl.Given.Key, "key", "", "client certificate's private key (or TAPEDECK_KEY)")
	f.StringVar(&fl.Jurisdiction, "jurisdiction", "", "Betfair site of the account: "+strings.Join(betting.Jurisdictions(), ", ")+" (default com)")
	f.StringVar(&fl.Identity, "identity-url", "", "identity (login) service base URL, overriding --jurisdiction (https only)")
	f.StringVar(&fl.Betting, "betting-url", "", "Betting API base URL, overriding --jurisdiction (https only)")
	f.StringVar(&fl.Stream, "stream-addr", "", "stream endpoint host:port, overriding --jurisdiction")
	f.StringVar(&fl.CA, "ca", "", "PEM certificate to trust for private endpoints")
	f.StringVar(&fl.ExchangeInfo, "exchange-info", "", verb+" the local exchange whose `FILE` tapedeck trade serve --info writes (loopback only; placeholder credentials are sent)")
	f.DurationVar(&fl.InfoWait, "exchange-info-wait", 30*time.Second, "how long to wait for the --exchange-info file to appear")
}

// Placeholders are the credentials sent to a local exchange: what the
// command line gives, else "local". The environment and --config hold the
// real account's secrets and are not read, so that a planted or stale
// --exchange-info file never receives them.
func (fl *Flags) Placeholders() Credentials {
	or := func(flag string) string {
		if flag != "" {
			return flag
		}
		return "local"
	}
	return Credentials{AppKey: or(fl.Given.AppKey), Username: or(fl.Given.Username), Password: or(fl.Given.Password)}
}

// Credentials merges flags, environment and config file.
func (fl *Flags) Credentials() (Credentials, error) {
	file, err := ConfigFile(fl.Config)
	if err != nil {
		return file, err
	}
	pick := func(flag, env, fromFile string) string {
		if flag != "" {
			return flag
		}
		if v := os.Getenv(env); v != "" {
			return v
		}
		return fromFile
	}
	return Credentials{
		AppKey:       pick(fl.Given.AppKey, "TAPEDECK_APP_KEY", file.AppKey),
		Username:     pick(fl.Given.Username, "TAPEDECK_USERNAME", file.Username),
		Password:     pick(fl.Given.Password, "TAPEDECK_PASSWORD", file.Password),
		Cert:         pick(fl.Given.Cert, "TAPEDECK_CERT", file.Cert),
		Key:          pick(fl.Given.Key, "TAPEDECK_KEY", file.Key),
		Jurisdiction: file.Jurisdiction,
	}, nil
}

// Endpoints returns the endpoints and CA file the flags name, and whether
// they are a local exchange's (--exchange-info). Every URL must be https,
// and a local exchange's endpoints loopback.
func (fl *Flags) Endpoints(ctx context.Context, c *Credentials) (betting.Endpoints, string, bool, error) {
	name := c.Jurisdiction
	if fl.Jurisdiction != "" {
		name = fl.Jurisdiction
	}
	if name == "" {
		name = "com"
	}
	ep, err := betting.Jurisdiction(name)
	if err != nil {
		return ep, "", false, &cli.UsageError{Err: err}
	}
	ca := fl.CA
	local := false
	if fl.ExchangeInfo != "" {
		info, err := exchange.ReadInfo(ctx, fl.ExchangeInfo, fl.InfoWait)
		if err != nil {
			if ctx.Err() != nil {
				return ep, "", false, err
			}
			return ep, "", false, &cli.UsageError{Err: fmt.Errorf("--exchange-info: %w", err)}
		}
		ep = betting.Local(info.Identity, info.Betting, info.Stream)
		if ca == "" {
			ca = info.CA
		}
		local = true
	}
	if fl.Identity != "" {
		ep.Identity, ep.CertIdentity = fl.Identity, fl.Identity
	}
	if fl.Betting != "" {
		ep.Betting = fl.Betting
	}
	if fl.Stream != "" {
		ep.Stream = fl.Stream
	}
	if err := ep.Validate(); err != nil {
		return ep, "", false, &cli.UsageError{Err: err}
	}
	if local {
		if err := exchange.CheckLoopback(ep.Stream, ep.Identity, ep.CertIdentity, ep.Betting); err != nil {
			return ep, "", false, &cli.UsageError{Err: fmt.Errorf("--exchange-info %s: %w", fl.ExchangeInfo, err)}
		}
	}
	return ep, ca, local, nil
}

// Account is everything a command needs to log in: the credentials, the
// endpoints, the CA file to trust and whether it is a local exchange.
type Account struct {
	Credentials
	Endpoints betting.Endpoints
	CA        string
	Local     bool
}

// Resolve turns the flags into an Account: placeholders for a local
// exchange, else the account's credentials from flags, environment and
// --config; then the endpoints. A missing username or password is a
// *cli.UsageError here rather than a refused login later, because logins
// are retried with back-off.
func (fl *Flags) Resolve(ctx context.Context) (Account, error) {
	var a Account
	var err error
	if fl.ExchangeInfo != "" {
		// A local exchange takes any credentials: it gets placeholders.
		a.Credentials = fl.Placeholders()
	} else if a.Credentials, err = fl.Credentials(); err != nil {
		return a, err
	}
	if a.Endpoints, a.CA, a.Local, err = fl.Endpoints(ctx, &a.Credentials); err != nil {
		return a, err
	}
	if a.Username == "" || a.Password == "" {
		return a, &cli.UsageError{Err: errors.New("no username or password: give TAPEDECK_USERNAME and TAPEDECK_PASSWORD, or --config")}
	}
	return a, nil
}

// Config is the Betting API client's configuration for the account, for
// a caller that adds its own settings (Observe) before betting.New.
func (a Account) Config(log *slog.Logger) betting.Config {
	return betting.Config{Endpoints: a.Endpoints, AppKey: a.AppKey, Username: a.Username, Password: a.Password,
		CertFile: a.Cert, KeyFile: a.Key, CAFile: a.CA, Logger: log}
}

// Client returns a Betting API client for the account; it makes no
// request. A bad setting (no application key, an unreadable CA) is a
// *cli.UsageError.
func (a Account) Client(log *slog.Logger) (*betting.Client, error) {
	return NewClient(a.Config(log))
}

// NewClient is betting.New with a bad setting as a *cli.UsageError.
func NewClient(cfg betting.Config) (*betting.Client, error) {
	bc, err := betting.New(cfg)
	if err != nil {
		return nil, &cli.UsageError{Err: err}
	}
	return bc, nil
}
