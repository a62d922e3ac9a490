// Package esa holds the Exchange Stream API message types and the decoder
// that turns one stream line (live or historic) into them.
//
// The decoder is the hot path of every tapedeck command, so the types are
// shaped for reuse: a Message is decoded into again and again, its slices are
// truncated and refilled rather than reallocated, and byte-slice fields alias
// the input line. Anything that must outlive the next Decode call has to be
// copied (see the comments on each field).
package esa

// Op is the kind of a stream line, from its "op" field.
type Op uint8

// The ops a stream line can carry.
const (
	OpUnknown    Op = iota
	OpMCM           // market change message
	OpOCM           // order change message
	OpConnection    // first message after connecting
	OpStatus        // answer to a request, or an error before close
	OpRCM           // race change (Betfair's tracking data); recognised, not decoded
	OpCCM           // cricket change; recognised, not decoded
)

// String returns the op as it appears on the wire.
func (o Op) String() string {
	switch o {
	case OpMCM:
		return "mcm"
	case OpOCM:
		return "ocm"
	case OpConnection:
		return "connection"
	case OpStatus:
		return "status"
	case OpRCM:
		return "rcm"
	case OpCCM:
		return "ccm"
	}
	return "unknown"
}

// ChangeType is the "ct" field of a change message. Historic files have none
// (ChangeTypeNone), which readers treat like an UPDATE.
type ChangeType uint8

// The change types the stream uses.
const (
	ChangeTypeNone ChangeType = iota
	ChangeTypeSubImage
	ChangeTypeResubDelta
	ChangeTypeHeartbeat
)

// SegmentType is the "segmentType" field: large images are sent in segments
// and only SEG_END (or an unsegmented message) carries a usable clock.
type SegmentType uint8

// The segment types.
const (
	SegmentNone SegmentType = iota
	SegmentStart
	Segment
	SegmentEnd
)

// Message is one decoded stream line. A Decoder fills the same Message again
// and again; []byte fields alias the line passed to Decode and are valid only
// until the next call.
type Message struct {
	Op Op
	// ID is the request id the server echoes ("id"); HasID says it was present.
	ID    int64
	HasID bool

	// Clk and InitialClk are the opaque clock tokens. Historic files carry
	// numeric strings or null; both decode to the token's bytes (nil for null).
	Clk        []byte
	InitialClk []byte
	// Pt is the publish time in epoch milliseconds.
	Pt          int64
	Ct          ChangeType
	Con         bool // conflated
	SegmentType SegmentType
	// Status is the numeric "status" of a change message (503 when the
	// stream's data is stale); 0 when absent.
	Status      int
	HeartbeatMs int64
	ConflateMs  int64

	// MC holds the market changes of an mcm line.
	MC []MarketChange
	// OC holds the order market changes of an ocm line.
	OC []OrderMarketChange

	// Connection and status messages.
	ConnectionID         []byte
	StatusCode           []byte // "SUCCESS" or "FAILURE"
	ErrorCode            []byte
	ErrorMessage         []byte
	ConnectionClosed     bool
	ConnectionsAvailable int64
}

// Reset clears m for reuse, keeping the capacity of its slices.
func (m *Message) Reset() {
	mc, oc := m.MC[:0], m.OC[:0]
	*m = Message{MC: mc, OC: oc}
}

// MarketChange is one element of an mcm line's "mc" array.
type MarketChange struct {
	// ID is the market id ("1.132153978"); aliases the input line.
	ID  []byte
	Img bool // the change replaces the whole market
	Con bool
	// Tv is the market's total matched; HasTv says the key was present.
	Tv    float64
	HasTv bool
	// Def is the market definition carried by this change, or nil. The
	// decoder allocates a fresh definition each time, so a cache may keep it.
	Def *MarketDefinition
	// RC holds the runner changes.
	RC []RunnerChange
	// Raw is this market change's JSON exactly as received (the bytes of the
	// mc element, from '{' to '}'); aliases the input line.
	Raw []byte
}

// RunnerField is a bit set of the keys present in a RunnerChange, so that an
// absent key can be told from a zero value or an empty ladder ("trd": [] means
// "empty the traded ladder", which differs from no "trd" at all).
type RunnerField uint32

// One bit per runner-change key.
const (
	FieldHc RunnerField = 1 << iota
	FieldLtp
	FieldTv
	FieldSpn
	FieldSpf
	FieldAtb
	FieldAtl
	FieldTrd
	FieldSpb
	FieldSpl
	FieldBatb
	FieldBatl
	FieldBdatb
	FieldBdatl
)

// PriceSize is one [price, size] pair of a price-keyed ladder.
type PriceSize struct {
	Price float64
	Size  float64
}

// LevelPriceSize is one [level, price, size] triple of a level-keyed ladder.
type LevelPriceSize struct {
	Level int
	Price float64
	Size  float64
}

// RunnerChange is one element of a market change's "rc" array. Ladders are
// deltas: a size of 0 deletes the level.
type RunnerChange struct {
	ID int64   // selection id
	Hc float64 // handicap; 0 when absent (Fields has no FieldHc)
	// Fields records which keys were present.
	Fields RunnerField

	Ltp float64
	Tv  float64
	// Spn and Spf are the near and far projected starting prices. Betfair
	// sends the strings "NaN" and "Infinity" for them at times; those decode
	// to math.NaN() and math.Inf(1), and SpnRaw/SpfRaw keep the text as sent.
	Spn    float64
	Spf    float64
	SpnRaw []byte
	SpfRaw []byte

	Atb, Atl, Trd, Spb, Spl  []PriceSize
	Batb, Batl, Bdatb, Bdatl []LevelPriceSize
}

// Has reports whether key f was present in the change.
func (rc *RunnerChange) Has(f RunnerField) bool { return rc.Fields&f != 0 }

// MarketDefinition is a market's "marketDefinition": every field of
// ESASwaggerSchema.json plus those seen in historic files. Booleans and
// numbers that can be absent are pointers only where absence matters to a
// reader; times are kept as the RFC 3339 strings Betfair sends.
type MarketDefinition struct {
	Venue                 string
	RaceType              string
	SettledTime           string
	Timezone              string
	EachWayDivisor        float64
	HasEachWayDivisor     bool
	Regulators            []string
	MarketType            string
	MarketBaseRate        float64
	NumberOfWinners       int
	CountryCode           string
	LineMaxUnit           float64
	LineMinUnit           float64
	LineInterval          float64
	InPlay                bool
	BetDelay              int
	BspMarket             bool
	BettingType           string
	NumberOfActiveRunners int
	EventID               string
	CrossMatching         bool
	RunnersVoidable       bool
	TurnInPlayEnabled     bool
	PriceLadderType       string // priceLadderDefinition.type: CLASSIC, FINEST, LINE_RANGE
	KeyLine               []KeyLineSelection
	HasKeyLine            bool
	SuspendTime           string
	DiscountAllowed       bool
	PersistenceEnabled    bool
	Runners               []RunnerDefinition
	Version               int64
	EventTypeID           string
	Complete              bool
	OpenDate              string
	MarketTime            string
	BspReconciled         bool
	Status                string // INACTIVE, OPEN, SUSPENDED, CLOSED
	SuspendReason         string

	// Fields seen in historic files but not in the schema.
	Name           string // market name
	EventName      string
	BetDelayModels []string

	// Raw is the definition's JSON exactly as received. Unlike the other
	// []byte fields of this package it is a copy the definition owns.
	Raw []byte
}

// KeyLineSelection is one entry of a keyLineDefinition.
type KeyLineSelection struct {
	ID int64
	Hc float64
}

// RunnerDefinition is one runner of a market definition.
type RunnerDefinition struct {
	ID               int64
	Hc               float64
	HasHc            bool
	SortPriority     int
	Name             string
	Status           string // ACTIVE, WINNER, LOSER, REMOVED, REMOVED_VACANT, HIDDEN, PLACED
	AdjustmentFactor float64
	HasAdjustment    bool
	RemovalDate      string
	Bsp              float64
	HasBsp           bool
}

// OrderMarketChange is one element of an ocm line's "oc" array.
type OrderMarketChange struct {
	ID        []byte // market id; aliases the input line
	AccountID int64
	Closed    bool
	FullImage bool
	ORC       []OrderRunnerChange
	Raw       []byte // the element as received; aliases the input line
}

// OrderRunnerChange is one runner of an order market change.
type OrderRunnerChange struct {
	ID        int64
	Hc        float64
	HasHc     bool
	FullImage bool
	// UO are unmatched (and recently completed) orders.
	UO []Order
	// MB and ML are matched backs and lays by price; size 0 deletes.
	MB, ML []PriceSize
	HasMB  bool
	HasML  bool
	SMC    []StrategyMatchChange
}

// StrategyMatchChange is one entry of an order runner change's "smc"
// object, keyed by customer strategy reference.
type StrategyMatchChange struct {
	Ref   string
	MB    []PriceSize
	ML    []PriceSize
	HasMB bool
	HasML bool
}

// Order is one unmatched order ("uo" entry). Strings are copied, so an Order
// may be kept by a cache.
type Order struct {
	ID                  string  // bet id
	Price               float64 // p
	Size                float64 // s
	BspLiability        float64 // bsp
	Side                string  // B or L
	Status              string  // E (executable) or EC (execution complete)
	PersistenceType     string  // pt: L, P, MOC
	OrderType           string  // ot: L, LOC, MOC
	PlacedDate          int64   // pd, epoch ms
	MatchedDate         int64   // md
	CancelledDate       int64   // cd
	LapsedDate          int64   // ld
	LapseStatusReason   string  // lsrc
	AvgPriceMatched     float64 // avp
	SizeMatched         float64 // sm
	SizeRemaining       float64 // sr
	SizeLapsed          float64 // sl
	SizeCancelled       float64 // sc
	SizeVoided          float64 // sv
	RegulatorAuthCode   string  // rac
	RegulatorCode       string  // rc
	CustomerOrderRef    string  // rfo
	CustomerStrategyRef string  // rfs
}
