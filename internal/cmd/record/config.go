package record

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/tapedeck/tapedeck/engine/exchange"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/tapedeck/tapedeck/engine/betting"
	"github.com/tapedeck/tapedeck/internal/cli"
	"github.com/tapedeck/tapedeck/recorder"
	"github.com/tapedeck/tapedeck/store"
	"github.com/tapedeck/tapedeck/store/s3"
)

// credentials are the account's secrets and where to log in. Flags win over
// the environment, which wins over the config file.
type credentials struct {
	AppKey       string `json:"app_key"`
	Username     string `json:"username"`
	Password     string `json:"password"`
	Cert         string `json:"cert"`
	Key          string `json:"key"`
	Jurisdiction string `json:"jurisdiction"`
}

// configFile reads the JSON credentials file (--config).
func configFile(path string) (credentials, error) {
	var c credentials
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

// endpointFlags say where Betfair (or a local exchange) is.
type endpointFlags struct {
	jurisdiction string
	identity     string
	betting      string
	stream       string
	ca           string
	exchangeInfo string
	infoWait     time.Duration
}

func (e *endpointFlags) add(f *pflag.FlagSet) {
	f.StringVar(&e.jurisdiction, "jurisdiction", "", "Betfair site of the account: "+strings.Join(betting.Jurisdictions(), ", ")+" (default com)")
	f.StringVar(&e.identity, "identity-url", "", "identity (login) service base URL, overriding --jurisdiction (https only)")
	f.StringVar(&e.betting, "betting-url", "", "Betting API base URL, overriding --jurisdiction (https only)")
	f.StringVar(&e.stream, "stream-addr", "", "stream endpoint host:port, overriding --jurisdiction")
	f.StringVar(&e.ca, "ca", "", "PEM certificate to trust for private endpoints")
	f.StringVar(&e.exchangeInfo, "exchange-info", "", "record from the local exchange whose `FILE` tapedeck trade serve --info writes (loopback only; placeholder credentials are sent)")
	f.DurationVar(&e.infoWait, "exchange-info-wait", 30*time.Second, "how long to wait for the --exchange-info file to appear")
}

// resolve returns the endpoints and CA file the flags name, and whether
// they are a local exchange's (--exchange-info). Every URL must be https,
// and a local exchange's endpoints loopback.
func (e *endpointFlags) resolve(ctx context.Context, c *credentials) (betting.Endpoints, string, bool, error) {
	name := c.Jurisdiction
	if e.jurisdiction != "" {
		name = e.jurisdiction
	}
	if name == "" {
		name = "com"
	}
	ep, err := betting.Jurisdiction(name)
	if err != nil {
		return ep, "", false, &cli.UsageError{Err: err}
	}
	ca := e.ca
	local := false
	if e.exchangeInfo != "" {
		info, err := exchange.ReadInfo(ctx, e.exchangeInfo, e.infoWait)
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
	if e.identity != "" {
		ep.Identity, ep.CertIdentity = e.identity, e.identity
	}
	if e.betting != "" {
		ep.Betting = e.betting
	}
	if e.stream != "" {
		ep.Stream = e.stream
	}
	if err := ep.Validate(); err != nil {
		return ep, "", false, &cli.UsageError{Err: err}
	}
	if local {
		if err := exchange.CheckLoopback(ep.Stream, ep.Identity, ep.CertIdentity, ep.Betting); err != nil {
			return ep, "", false, &cli.UsageError{Err: fmt.Errorf("--exchange-info %s: %w", e.exchangeInfo, err)}
		}
	}
	return ep, ca, local, nil
}

// credFlags are the credential flags; secrets are better given in the
// environment or the config file, which ps and shell history do not show.
type credFlags struct {
	config string
	c      credentials
}

func (cf *credFlags) add(f *pflag.FlagSet) {
	f.StringVar(&cf.config, "config", "", "JSON file with app_key, username, password, cert, key, jurisdiction")
	f.StringVar(&cf.c.AppKey, "app-key", "", "application key (or TAPEDECK_APP_KEY)")
	f.StringVar(&cf.c.Username, "username", "", "account username (or TAPEDECK_USERNAME)")
	f.StringVar(&cf.c.Password, "password", "", "account password (prefer TAPEDECK_PASSWORD or --config: flags show in ps)")
	f.StringVar(&cf.c.Cert, "cert", "", "client certificate for certificate login (or TAPEDECK_CERT)")
	f.StringVar(&cf.c.Key, "key", "", "client certificate's private key (or TAPEDECK_KEY)")
}

// placeholders are the credentials sent to a local exchange: what the
// command line gives, else "local". The environment and --config hold the
// real account's secrets and are not read, so that a planted or stale
// --exchange-info file never receives them.
func (cf *credFlags) placeholders() credentials {
	or := func(flag string) string {
		if flag != "" {
			return flag
		}
		return "local"
	}
	return credentials{AppKey: or(cf.c.AppKey), Username: or(cf.c.Username), Password: or(cf.c.Password)}
}

// resolve merges flags, environment and config file.
func (cf *credFlags) resolve() (credentials, error) {
	file, err := configFile(cf.config)
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
	c := credentials{
		AppKey:       pick(cf.c.AppKey, "TAPEDECK_APP_KEY", file.AppKey),
		Username:     pick(cf.c.Username, "TAPEDECK_USERNAME", file.Username),
		Password:     pick(cf.c.Password, "TAPEDECK_PASSWORD", file.Password),
		Cert:         pick(cf.c.Cert, "TAPEDECK_CERT", file.Cert),
		Key:          pick(cf.c.Key, "TAPEDECK_KEY", file.Key),
		Jurisdiction: file.Jurisdiction,
	}
	return c, nil
}

// destFlags say where tapes go and how.
type destFlags struct {
	spool, dest, layout, ordersLayout, compress string
	attempts                                    int
	s3                                          s3.Options
	// backoffScale multiplies the upload back-off and rescan period
	// (hidden: tests shorten an outage's minutes to seconds).
	backoffScale float64
}

func (d *destFlags) add(f *pflag.FlagSet) {
	f.StringVar(&d.spool, "spool", "./spool", "directory holding open tapes and tapes awaiting upload")
	f.StringVar(&d.dest, "dest", "./tapes", "where closed tapes go: a directory or s3://bucket/prefix")
	f.StringVar(&d.layout, "layout", recorder.DefaultLayout, "key of a market tape under --dest; placeholders {event_type_id} {event_id} {market_id} {market_type} {country_code} {yyyy} {mm} {dd} (market time, UTC)")
	f.StringVar(&d.ordersLayout, "orders-layout", recorder.DefaultOrdersLayout, "key of an order tape under --dest")
	f.StringVar(&d.compress, "compress", "zstd", "compression of uploaded tapes: zstd, gzip or none (the key's suffix follows)")
	d.s3.AddFlags(f)
	f.Float64Var(&d.backoffScale, "upload-backoff-scale", 1, "multiply the upload back-off (1 s doubling to 2 min) and the minute between scans of the spool (tests)")
	f.MarkHidden("upload-backoff-scale")
}

func (d *destFlags) config(ctx context.Context, log *slog.Logger) (recorder.Config, error) {
	if err := recorder.CheckLayout(d.layout); err != nil {
		return recorder.Config{}, &cli.UsageError{Err: err}
	}
	switch d.compress {
	case "zstd", "gzip", "none":
	default:
		return recorder.Config{}, &cli.UsageError{Err: fmt.Errorf("--compress %q: want zstd, gzip or none", d.compress)}
	}
	d.s3.Logger = log // the AWS SDK's lines too, at the user's level
	st, prefix, err := store.Open(ctx, d.dest, store.Options{S3: d.s3})
	if err != nil {
		return recorder.Config{}, &cli.UsageError{Err: fmt.Errorf("--dest: %w", err)}
	}
	if d.backoffScale <= 0 || d.backoffScale > 1 {
		return recorder.Config{}, &cli.UsageError{Err: fmt.Errorf("--upload-backoff-scale %v: want more than 0, at most 1", d.backoffScale)}
	}
	scale := func(v time.Duration) time.Duration { return time.Duration(float64(v) * d.backoffScale) }
	return recorder.Config{
		Spool: d.spool, Store: st, Prefix: prefix,
		Layout: d.layout, OrdersLayout: d.ordersLayout, Compress: d.compress,
		Attempts: d.attempts, Logger: log,
		MinBackoff: scale(time.Second), MaxBackoff: scale(2 * time.Minute), Rescan: scale(time.Minute),
	}, nil
}

// untilDeadline turns --until HH:MM (local time, the next such minute) and
// --duration into a deadline; zero means none.
func untilDeadline(now time.Time, until string, d time.Duration) (time.Time, error) {
	var dl time.Time
	if until != "" {
		t, err := time.ParseInLocation("15:04", until, now.Location())
		if err != nil {
			return dl, &cli.UsageError{Err: fmt.Errorf("--until %q: want HH:MM", until)}
		}
		dl = time.Date(now.Year(), now.Month(), now.Day(), t.Hour(), t.Minute(), 0, 0, now.Location())
		if !dl.After(now) {
			dl = dl.AddDate(0, 0, 1)
		}
	}
	if d > 0 {
		if e := now.Add(d); dl.IsZero() || e.Before(dl) {
			dl = e
		}
	}
	return dl, nil
}
