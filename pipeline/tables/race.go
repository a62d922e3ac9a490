package tables

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Event types whose market and runner names carry race fields.
const (
	eventHorseRacing     = 7
	eventGreyhoundRacing = 4339
)

// raceFields are what a racing market's name says: "R1 452m Gr6" (race 1,
// 452 metres, grade Gr6), "OR 280m" (a GB greyhound open race), "1m2f Hcap"
// (a GB/IE horse race in miles, furlongs and yards). A name without a
// distance ("To Be Placed") gives none of them: a guess would be a wrong
// value where null is only a missing one.
type raceFields struct {
	number, distance int32 // 0: none
	class            string
}

// parseRaceName parses a racing market's name.
func parseRaceName(name string) (raceFields, bool) {
	var f raceFields
	toks := strings.Fields(name)
	distAt := -1
	for i, tok := range toks {
		if m, ok := parseDistance(tok); ok {
			f.distance, distAt = m, i
			break
		}
	}
	if distAt < 0 {
		return raceFields{}, false
	}
	var class []string
	for i, tok := range toks {
		switch {
		case i == distAt:
		case i == 0 && len(tok) > 1 && tok[0] == 'R' && isDigits([]byte(tok[1:])):
			n, err := strconv.Atoi(tok[1:])
			if err != nil || n <= 0 || n > 99 {
				return raceFields{}, false
			}
			f.number = int32(n)
		default:
			class = append(class, tok)
		}
	}
	f.class = strings.Join(class, " ")
	return f, true
}

// Imperial distances, in metres.
const (
	mile    = 1609.344
	furlong = 201.168
	yard    = 0.9144
)

// parseDistance reads one token as a race distance in whole metres:
// "452m" (metres: 100 or more), or miles, furlongs and yards in that order
// ("1m", "7f", "2m4f", "1m2f110y"). Anything else is not a distance.
func parseDistance(tok string) (int32, bool) {
	if n, ok := strings.CutSuffix(tok, "m"); ok && isDigits([]byte(n)) && n != "" {
		v, err := strconv.Atoi(n)
		if err == nil && v >= 100 && v <= 10000 {
			return int32(v), true
		}
	}
	var metres float64
	rest := tok
	parts := 0
	for _, u := range []struct {
		suffix byte
		m      float64
		max    int
	}{{'m', mile, 5}, {'f', furlong, 7}, {'y', yard, 219}} {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 || i == len(rest) || rest[i] != u.suffix {
			continue
		}
		v, err := strconv.Atoi(rest[:i])
		if err != nil || v <= 0 || v > u.max {
			return 0, false
		}
		metres += float64(v) * u.m
		rest = rest[i+1:]
		parts++
	}
	if parts == 0 || rest != "" {
		return 0, false
	}
	return int32(math.Round(metres)), true
}

// parseRunnerName splits "1. Gotham Prince" into the trap or saddle-cloth
// number and the clean name; a name with no such prefix has no number and
// is its own clean name.
func parseRunnerName(name string) (number int32, clean string) {
	num, rest, ok := strings.Cut(name, ". ")
	if !ok || num == "" || !isDigits([]byte(num)) || strings.TrimSpace(rest) == "" {
		return 0, strings.TrimSpace(name)
	}
	n, err := strconv.Atoi(num)
	if err != nil || n <= 0 || n > 99 {
		return 0, strings.TrimSpace(name)
	}
	return int32(n), strings.TrimSpace(rest)
}

// isRacing reports whether an event type's names carry race fields.
func isRacing(eventTypeID int64) bool {
	return eventTypeID == eventHorseRacing || eventTypeID == eventGreyhoundRacing
}

// raceKey names one race across its markets (WIN, PLACE, forecasts...):
// the event and the scheduled start, such as "31270458/2022-03-01T08:14Z".
func raceKey(eventID string, marketTime int64) string {
	return eventID + "/" + time.UnixMilli(marketTime).UTC().Format("2006-01-02T15:04Z")
}
