// Package strategies holds tapedeck's built-in reference strategies
// (lowest-layer and passive-back) and the registry the trade command looks
// strategies up in. A user's own strategy registers itself next to the
// built-ins and gets its own trade command with one call to Main.
package strategies

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/tapedeck/tapedeck/engine"
)

// Params are a strategy's parameters as given on the command line
// (--param k=v).
type Params map[string]string

// Float returns parameter k as a number, def when absent.
func (p Params) Float(k string, def float64) (float64, error) {
	v, ok := p[k]
	if !ok {
		return def, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, fmt.Errorf("param %s=%q: %w", k, v, err)
	}
	return f, nil
}

// ParseParams reads k=v pairs.
func ParseParams(kvs []string) (Params, error) {
	p := Params{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("param %q: want key=value", kv)
		}
		p[k] = v
	}
	return p, nil
}

// Info describes a strategy for the registry.
type Info struct {
	// Name is what --strategy selects.
	Name string
	// Description is one line for trade strategies.
	Description string
	// Params documents the parameters, name to meaning (and default); a
	// --param not listed here is refused (CheckParams).
	Params map[string]string
	// New returns a fresh instance; the engine calls it once per replayed
	// market (or event), so instances need no locking.
	New func(p Params) (engine.Strategy, error)
}

// CheckParams reports a parameter p sets that the strategy does not
// document in Params, naming the ones it has: a misspelt --param would
// otherwise be ignored and the run made with the default.
func (in Info) CheckParams(p Params) error {
	var unknown []string
	for k := range p {
		if _, ok := in.Params[k]; !ok {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	known := make([]string, 0, len(in.Params))
	for k := range in.Params {
		known = append(known, k)
	}
	sort.Strings(known)
	has := "has no parameters"
	if len(known) > 0 {
		has = "has " + strings.Join(known, ", ")
	}
	return fmt.Errorf("strategy %s has no parameter %s; it %s", in.Name, strings.Join(unknown, ", "), has)
}

// Registry maps strategy names to their Info. Build one with NewRegistry or
// Builtins; it is not safe for concurrent registration.
type Registry struct {
	byName map[string]Info
}

// NewRegistry returns a registry holding infos.
func NewRegistry(infos ...Info) (*Registry, error) {
	r := &Registry{byName: map[string]Info{}}
	for _, in := range infos {
		if err := r.Register(in); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Builtins returns a registry of the built-in strategies.
func Builtins() *Registry {
	r, err := NewRegistry(LowestLayerInfo(), PassiveBackInfo())
	if err != nil {
		panic(err) // the built-ins' names are distinct
	}
	return r
}

// Register adds a strategy; a name may be registered once.
func (r *Registry) Register(in Info) error {
	if in.Name == "" || in.New == nil {
		return fmt.Errorf("strategies: register: a strategy needs a Name and New")
	}
	if _, dup := r.byName[in.Name]; dup {
		return fmt.Errorf("strategies: register: %q is already registered", in.Name)
	}
	r.byName[in.Name] = in
	return nil
}

// Lookup returns the strategy with the given name.
func (r *Registry) Lookup(name string) (Info, bool) {
	in, ok := r.byName[name]
	return in, ok
}

// List returns every strategy sorted by name.
func (r *Registry) List() []Info {
	out := make([]Info, 0, len(r.byName))
	for _, in := range r.byName {
		out = append(out, in)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ReferenceLimits are the built-ins' limits: set so that they never bind
// (order and selection exposure 1000, live trades 1000, trades 100000), as
// in the flumine runs they are compared with.
var ReferenceLimits = engine.Limits{MaxOrderExposure: 1000, MaxSelectionExposure: 1000, MaxLiveTradeCount: 1000, MaxTradeCount: 100000}
