package tradecli

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tapedeck/tapedeck/engine"
)

// MinBetOptions say which minimum bet the controls hold orders to: a
// currency's, from Betfair's table (engine.MinBetFor), with each figure
// given by its flag overriding the table's.
type MinBetOptions struct {
	// Currency is the account's currency: the --currency flag (trade
	// paper and backtest), or getAccountDetails' answer (trade live).
	Currency string
	// Set holds the figures given by --min-bet-size, --min-bet-payout and
	// --min-bsp-liability; only the flags given count.
	Set engine.MinBet
}

// add registers the flags; withCurrency adds --currency (trade live asks
// the account instead).
func (o *MinBetOptions) add(f *pflag.FlagSet, withCurrency bool) {
	if withCurrency {
		f.StringVar(&o.Currency, "currency", "GBP", "the account's currency, whose minimum bet (Betfair's table) the controls check: "+strings.Join(engine.Currencies(), ", "))
	}
	f.Float64Var(&o.Set.Size, "min-bet-size", 0, "the smallest stake the controls let through (default: the currency's minimum)")
	f.Float64Var(&o.Set.Payout, "min-bet-payout", 0, "a smaller stake passes if price x stake reaches this (default: the currency's minimum payout)")
	f.Float64Var(&o.Set.BSPLiability, "min-bsp-liability", 0, "the smallest liability of a lay at the starting price (default: the currency's minimum)")
}

// resolve returns the minimum bet for o.Currency, each figure whose flag
// was given in cmd taking the flag's value. A currency Betfair's table
// does not list is an error naming it and the flags that set its figures
// by hand, unless all three were given.
func (o *MinBetOptions) resolve(cmd *cobra.Command) (engine.MinBet, error) {
	fl := cmd.Flags()
	m, known := engine.MinBetFor(o.Currency)
	all := true
	for _, x := range []struct {
		flag  string
		given float64
		dst   *float64
	}{
		{"min-bet-size", o.Set.Size, &m.Size},
		{"min-bet-payout", o.Set.Payout, &m.Payout},
		{"min-bsp-liability", o.Set.BSPLiability, &m.BSPLiability},
	} {
		if !fl.Changed(x.flag) {
			all = false
			continue
		}
		if !(x.given > 0) {
			return m, fmt.Errorf("--%s must be above 0, got %v", x.flag, x.given)
		}
		*x.dst = x.given
	}
	if !known && !all {
		return m, fmt.Errorf("currency %q is not in Betfair's table of minimum bets (%s): set them with --min-bet-size, --min-bet-payout and --min-bsp-liability",
			o.Currency, strings.Join(engine.Currencies(), " "))
	}
	return m, nil
}

// logMinBet says which minimum bet a run holds its orders to.
func logMinBet(log *slog.Logger, currency string, m engine.MinBet) {
	log.Info("minimum bet", "currency", currency, "size", m.Size, "payout", m.Payout, "bsp_liability", m.BSPLiability)
}
