// Package tables derives the rows of convert parquet's tables from the replay
// of one tape through the market cache. It is pure: it reads decoded messages
// and the cache's markets and returns Go rows, one Rows per market, leaving
// files, partitions and encodings to package pipeline/parquet.
//
// The parquet tags of the row types are the dataset's schema: column names
// in snake_case, times as TIMESTAMP(millisecond, UTC) (int64 epoch
// milliseconds here), prices and sizes as DOUBLE, optional columns as
// pointers (null when nil). The two tables that make most of the rows are
// held more compactly: LadderDelta has no tags (pipeline/parquet gives it
// its columns), and Snapshot's optional columns are plain values with
// presence bits.
package tables

import (
	"unsafe"

	"github.com/tapedeck/tapedeck/engine/esa"
)

// Market is one row of the markets table: one market's identity, its
// definition as it stood at the end of the tape, and what the replay
// learned (the off, volumes, status).
type Market struct {
	MarketID string `parquet:"market_id,dict"`
	// EventTypeID is Betfair's event type (7 horse racing, 4339 greyhound
	// racing), an integer as the Hive partition event_type_id=<id> is, so
	// that every reader sees one type with or without partition columns.
	EventTypeID     int64  `parquet:"event_type_id"`
	EventID         string `parquet:"event_id,dict"`
	EventName       string `parquet:"event_name,dict"`
	MarketName      string `parquet:"market_name,dict"`
	MarketType      string `parquet:"market_type,dict"`
	BettingType     string `parquet:"betting_type,dict"`
	CountryCode     string `parquet:"country_code,dict"`
	Venue           string `parquet:"venue,dict"`
	Timezone        string `parquet:"timezone,dict"`
	OpenTime        *int64 `parquet:"open_time,optional,timestamp(millisecond:utc)"`
	MarketTime      *int64 `parquet:"market_time,optional,timestamp(millisecond:utc)"`
	MarketTimeFirst *int64 `parquet:"market_time_first,optional,timestamp(millisecond:utc)"`
	SuspendTime     *int64 `parquet:"suspend_time,optional,timestamp(millisecond:utc)"`
	OffTime         *int64 `parquet:"off_time,optional,timestamp(millisecond:utc)"`
	OffTimeSource   string `parquet:"off_time_source,dict"`
	// MarketTimeLocal and OffTimeLocal are market_time and off_time as the
	// venue's clock read them (the definition's timezone): wall-clock
	// timestamps, not instants; null when the timezone is unknown.
	MarketTimeLocal   *int64 `parquet:"market_time_local,optional,timestamp(millisecond:local)"`
	OffTimeLocal      *int64 `parquet:"off_time_local,optional,timestamp(millisecond:local)"`
	InPlayTime        *int64 `parquet:"in_play_time,optional,timestamp(millisecond:utc)"`
	BspReconciledTime *int64 `parquet:"bsp_reconciled_time,optional,timestamp(millisecond:utc)"`
	CloseTime         *int64 `parquet:"close_time,optional,timestamp(millisecond:utc)"`
	SettledTime       *int64 `parquet:"settled_time,optional,timestamp(millisecond:utc)"`
	// The race fields, parsed from the names of horse and greyhound
	// racing markets (null when the name does not say): RaceNumber from
	// "R1 ...", RaceDistanceM in metres, RaceClass the rest of the name
	// ("Gr6", "Hcap", "OR"); RaceKey is the same for every market of one
	// race (the event and the scheduled start).
	RaceNumber        *int32   `parquet:"race_number,optional"`
	RaceDistanceM     *int32   `parquet:"race_distance_m,optional"`
	RaceClass         *string  `parquet:"race_class,optional,dict"`
	RaceKey           *string  `parquet:"race_key,optional,dict"`
	TurnInPlayEnabled bool     `parquet:"turn_in_play_enabled"`
	BspMarket         bool     `parquet:"bsp_market"`
	NWinners          int32    `parquet:"n_winners"`
	NRunners          int32    `parquet:"n_runners"`
	NActiveAtOff      int32    `parquet:"n_active_at_off"`
	MarketBaseRate    float64  `parquet:"market_base_rate"`
	EachWayDivisor    *float64 `parquet:"each_way_divisor,optional"`
	Voided            bool     `parquet:"voided"`
	FinalStatus       string   `parquet:"final_status,dict"`
	// TradedVolume is the market's whole traded volume from the traded
	// ladders, settlement resets excluded (see Trade); PpTradedVolume,
	// SpTradedVolume and IpTradedVolume split it by phase (see Runner).
	TradedVolume   float64 `parquet:"traded_volume"`
	PpTradedVolume float64 `parquet:"pp_traded_volume"`
	SpTradedVolume float64 `parquet:"sp_traded_volume"`
	IpTradedVolume float64 `parquet:"ip_traded_volume"`
	DataTier       string  `parquet:"data_tier,dict"`
	Source         string  `parquet:"source,dict"`
	SourceMember   string  `parquet:"source_member,dict"`
	NUpdates       int64   `parquet:"n_updates"`
}

// Runner is one row of the runners table: one runner of one market, kept
// whatever its status (a removed runner keeps its row).
//
// Its traded volume is split into three phases by the market's state at
// each change of the traded ladder: in play (the definition says in play:
// ip_*), SP-matched (not in play and not OPEN: a suspended market matches
// nothing but Betfair's SP reconciliation, around the off: sp_*), and
// pre-play (not in play, OPEN: pp_*). The three add up to the runner's
// whole traded volume, and trades.in_play and trades.market_status say
// which phase each trade is in.
type Runner struct {
	MarketID    string  `parquet:"market_id,dict"`
	SelectionID int64   `parquet:"selection_id"`
	Handicap    float64 `parquet:"handicap"`
	RunnerName  string  `parquet:"runner_name,dict"`
	// RunnerNumber and RunnerNameClean split a racing runner's name,
	// "1. Gotham Prince", into its trap or saddle-cloth number and name;
	// a name with no number has a null number and is its own clean name.
	// Both are null outside horse and greyhound racing.
	RunnerNumber         *int32   `parquet:"runner_number,optional"`
	RunnerNameClean      *string  `parquet:"runner_name_clean,optional,dict"`
	SortPriority         int32    `parquet:"sort_priority"`
	FinalStatus          string   `parquet:"final_status,dict"`
	IsWinner             bool     `parquet:"is_winner"`
	Bsp                  *float64 `parquet:"bsp,optional"`
	AdjustmentFactor     *float64 `parquet:"adjustment_factor,optional"`
	RemovalTime          *int64   `parquet:"removal_time,optional,timestamp(millisecond:utc)"`
	RemovedBeforeOff     bool     `parquet:"removed_before_off"`
	PpMin                *float64 `parquet:"pp_min,optional"`
	PpMax                *float64 `parquet:"pp_max,optional"`
	PpWap                *float64 `parquet:"pp_wap,optional"`
	PpLtp                *float64 `parquet:"pp_ltp,optional"`
	PpTradedVolume       float64  `parquet:"pp_traded_volume"`
	IpMin                *float64 `parquet:"ip_min,optional"`
	IpMax                *float64 `parquet:"ip_max,optional"`
	IpWap                *float64 `parquet:"ip_wap,optional"`
	IpLtp                *float64 `parquet:"ip_ltp,optional"`
	IpTradedVolume       float64  `parquet:"ip_traded_volume"`
	SpTradedVolume       float64  `parquet:"sp_traded_volume"`
	SpBackStake          float64  `parquet:"sp_back_stake"`
	SpLayLiability       float64  `parquet:"sp_lay_liability"`
	BackPriceAtOff       *float64 `parquet:"back_price_at_off,optional"`
	LayPriceAtOff        *float64 `parquet:"lay_price_at_off,optional"`
	SpnAtOff             *float64 `parquet:"spn_at_off,optional"`
	SpfAtOff             *float64 `parquet:"spf_at_off,optional"`
	BackPriceAtScheduled *float64 `parquet:"back_price_at_scheduled,optional"`
	LayPriceAtScheduled  *float64 `parquet:"lay_price_at_scheduled,optional"`
}

// MarketDefinition is one row of market_definitions: a market change that
// carried a definition.
type MarketDefinition struct {
	MarketID       string `parquet:"market_id,dict"`
	Pt             int64  `parquet:"pt,timestamp(millisecond:utc)"`
	Seq            int64  `parquet:"seq"`
	Version        int64  `parquet:"version"`
	Status         string `parquet:"status,dict"`
	InPlay         bool   `parquet:"in_play"`
	BetDelay       int32  `parquet:"bet_delay"`
	MarketTime     *int64 `parquet:"market_time,optional,timestamp(millisecond:utc)"`
	SuspendTime    *int64 `parquet:"suspend_time,optional,timestamp(millisecond:utc)"`
	NActiveRunners int32  `parquet:"n_active_runners"`
	BspReconciled  bool   `parquet:"bsp_reconciled"`
	Complete       bool   `parquet:"complete"`
}

// RunnerDefinition is one row of runner_definitions: a runner whose entry
// in a market definition differs from the previous definition's (or is
// new): status, adjustment factor, removal time or BSP.
type RunnerDefinition struct {
	MarketID         string   `parquet:"market_id,dict"`
	Pt               int64    `parquet:"pt,timestamp(millisecond:utc)"`
	Seq              int64    `parquet:"seq"`
	SelectionID      int64    `parquet:"selection_id"`
	Handicap         float64  `parquet:"handicap"`
	Status           string   `parquet:"status,dict"`
	AdjustmentFactor *float64 `parquet:"adjustment_factor,optional"`
	RemovalTime      *int64   `parquet:"removal_time,optional,timestamp(millisecond:utc)"`
	Bsp              *float64 `parquet:"bsp,optional"`
}

// LadderDelta is one row of ladder_deltas (one price level of one ladder
// in a runner change, as sent: size 0 deletes the level), held compactly.
// A market's ladder deltas are most of the dataset's rows and all of them
// are held until written, so the row is small and pointer-free (the
// garbage collector need not scan it): the market id is Rows.MarketID, the
// ladder an enum and the market status an index into Rows.MarketStatuses.
// pipeline/parquet writes it with the columns market_id, pt, seq,
// selection_id, handicap, ladder, level, price, tick, size, in_play and
// market_status.
type LadderDelta struct {
	Pt, Seq     int64
	SelectionID int64
	Handicap    float64
	Price, Size float64
	// Level is the position in a level-keyed ladder; Tick the price's
	// index on the standard ladder. Each counts only when HasLevel or
	// HasTick says so: level is null for price-keyed ladders, tick off
	// the ladder.
	Level, Tick int32
	Ladder      Ladder
	// Status indexes Rows.MarketStatuses: the market's status at the
	// change.
	Status            uint8
	InPlay            bool
	HasLevel, HasTick bool
}

// Ladder is the stream key of a ladder: atb, atl, trd, spb, spl (price
// keyed), batb, batl, bdatb, bdatl (level keyed).
type Ladder uint8

// The ladders, in the order their names are listed.
const (
	LadderATB Ladder = iota
	LadderATL
	LadderTRD
	LadderSPB
	LadderSPL
	LadderBATB
	LadderBATL
	LadderBDATB
	LadderBDATL
)

var ladderNames = [...]string{"atb", "atl", "trd", "spb", "spl", "batb", "batl", "bdatb", "bdatl"}

// String returns the ladder's stream key.
func (l Ladder) String() string {
	if int(l) < len(ladderNames) {
		return ladderNames[l]
	}
	return ""
}

// Trade is one row of trades: one change of a runner's traded ladder (trd).
type Trade struct {
	MarketID    string  `parquet:"market_id,dict"`
	Pt          int64   `parquet:"pt,timestamp(millisecond:utc),delta"`
	Seq         int64   `parquet:"seq,delta"`
	SelectionID int64   `parquet:"selection_id,dict"`
	Handicap    float64 `parquet:"handicap,dict"`
	Price       float64 `parquet:"price,dict"`
	Tick        *int32  `parquet:"tick,optional"`
	// SizeCum is the traded amount at the price after the change; SizeDelta
	// the change from before (negative for a decrease).
	SizeCum   float64 `parquet:"size_cum"`
	SizeDelta float64 `parquet:"size_delta"`
	InPlay    bool    `parquet:"in_play"`
	// MarketStatus is the market's status at the change: with InPlay it
	// gives the trade's phase (see Runner).
	MarketStatus string `parquet:"market_status,dict"`
	// IsSettlementReset marks a level zeroed when Betfair clears the traded
	// ladder at settlement; such rows are left out of every volume.
	IsSettlementReset bool `parquet:"is_settlement_reset"`
}

// Snapshot is one row of snapshots: one runner's state as of one grid
// point (the state after the last update with pt <= snapshot_time).
//
// Its optional columns are plain values, with Has saying which are set
// (a value whose bit is clear is null, and zero): a market's snapshots
// number in the thousands and wait to be written with all the others, and
// pointers would cost an allocation per value and a call per row to
// encode. pipeline/parquet writes the rows as they are.
type Snapshot struct {
	MarketID    string  `parquet:"market_id,dict"`
	SelectionID int64   `parquet:"selection_id,dict"`
	Handicap    float64 `parquet:"handicap,dict"`
	// Ref is "scheduled" (market_time) or "off" (off_time).
	Ref string `parquet:"ref,dict"`
	// SecondsBefore is positive before the reference, negative after.
	SecondsBefore    int32   `parquet:"seconds_before"`
	SnapshotTime     int64   `parquet:"snapshot_time,timestamp(millisecond:utc)"`
	LastUpdatePt     int64   `parquet:"last_update_pt,optional,timestamp(millisecond:utc)"`
	MarketStatus     string  `parquet:"market_status,dict"`
	InPlay           bool    `parquet:"in_play"`
	RunnerStatus     string  `parquet:"runner_status,dict"`
	AdjustmentFactor float64 `parquet:"adjustment_factor,optional"`
	Ltp              float64 `parquet:"ltp,optional"`
	TradedVolume     float64 `parquet:"traded_volume"`
	Wap              float64 `parquet:"wap,optional"`
	BackPrice1       float64 `parquet:"back_price_1,optional"`
	BackSize1        float64 `parquet:"back_size_1,optional"`
	BackPrice2       float64 `parquet:"back_price_2,optional"`
	BackSize2        float64 `parquet:"back_size_2,optional"`
	BackPrice3       float64 `parquet:"back_price_3,optional"`
	BackSize3        float64 `parquet:"back_size_3,optional"`
	LayPrice1        float64 `parquet:"lay_price_1,optional"`
	LaySize1         float64 `parquet:"lay_size_1,optional"`
	LayPrice2        float64 `parquet:"lay_price_2,optional"`
	LaySize2         float64 `parquet:"lay_size_2,optional"`
	LayPrice3        float64 `parquet:"lay_price_3,optional"`
	LaySize3         float64 `parquet:"lay_size_3,optional"`
	BackTick         int32   `parquet:"back_tick,optional"`
	LayTick          int32   `parquet:"lay_tick,optional"`
	SpreadTicks      int32   `parquet:"spread_ticks,optional"`
	Spn              float64 `parquet:"spn,optional"`
	Spf              float64 `parquet:"spf,optional"`
	// SpBackStake and SpLayLiability are the SP pools: backers' stakes at
	// SP (the spl ladder's sum) and layers' liability at SP (spb's).
	SpBackStake    float64 `parquet:"sp_back_stake"`
	SpLayLiability float64 `parquet:"sp_lay_liability"`
	// Has says which optional columns are set.
	Has SnapshotFields `parquet:"-"`
	// Deep holds the prices past the third, for a depth above three
	// (Options.Depth); nil otherwise.
	Deep *DeepLevels `parquet:"-"`
}

// DeepLevels are a runner's prices and sizes past the best three: Back[k]
// is back_price_<k+4> and back_size_<k+4>, NBack how many there are.
type DeepLevels struct {
	Back, Lay   [MaxDepth - 3]esa.PriceSize
	NBack, NLay int8
}

// SnapshotFields is a set of Snapshot's optional columns, one bit each in
// column order.
type SnapshotFields uint32

// Snapshot's optional columns.
const (
	HasLastUpdatePt SnapshotFields = 1 << iota
	HasAdjustmentFactor
	HasLtp
	HasWap
	HasBackPrice1
	HasBackSize1
	HasBackPrice2
	HasBackSize2
	HasBackPrice3
	HasBackSize3
	HasLayPrice1
	HasLaySize1
	HasLayPrice2
	HasLaySize2
	HasLayPrice3
	HasLaySize3
	HasBackTick
	HasLayTick
	HasSpreadTicks
	HasSpn
	HasSpf
)

// SnapshotOptional lists Snapshot's optional columns by name, in the
// order of their SnapshotFields bits.
var SnapshotOptional = [...]string{"last_update_pt", "adjustment_factor", "ltp", "wap",
	"back_price_1", "back_size_1", "back_price_2", "back_size_2", "back_price_3", "back_size_3",
	"lay_price_1", "lay_size_1", "lay_price_2", "lay_size_2", "lay_price_3", "lay_size_3",
	"back_tick", "lay_tick", "spread_ticks", "spn", "spf"}

// Optional returns the value of each optional column, in the order of
// their SnapshotFields bits: int64 and int32 ones as float64.
func (s *Snapshot) Optional() [len(SnapshotOptional)]float64 {
	return [...]float64{float64(s.LastUpdatePt), s.AdjustmentFactor, s.Ltp, s.Wap,
		s.BackPrice1, s.BackSize1, s.BackPrice2, s.BackSize2, s.BackPrice3, s.BackSize3,
		s.LayPrice1, s.LaySize1, s.LayPrice2, s.LaySize2, s.LayPrice3, s.LaySize3,
		float64(s.BackTick), float64(s.LayTick), float64(s.SpreadTicks), s.Spn, s.Spf}
}

// RunnerUpdate is one row of runner_updates: one runner's state after a
// line that changed it (or carried a definition), so that the state at any
// moment is an as-of join on (market_id, selection_id, handicap, pt).
type RunnerUpdate struct {
	MarketID     string   `parquet:"market_id,dict"`
	Pt           int64    `parquet:"pt,timestamp(millisecond:utc),delta"`
	Seq          int64    `parquet:"seq,delta"`
	SelectionID  int64    `parquet:"selection_id,dict"`
	Handicap     float64  `parquet:"handicap,dict"`
	RunnerStatus string   `parquet:"runner_status,dict"`
	Ltp          *float64 `parquet:"ltp,optional"`
	TradedVolume float64  `parquet:"traded_volume"`
	BackPrice1   *float64 `parquet:"back_price_1,optional"`
	BackSize1    *float64 `parquet:"back_size_1,optional"`
	LayPrice1    *float64 `parquet:"lay_price_1,optional"`
	LaySize1     *float64 `parquet:"lay_size_1,optional"`
	Spn          *float64 `parquet:"spn,optional"`
	Spf          *float64 `parquet:"spf,optional"`
}

// MarketSnapshot is one row of market_snapshots: the market as of one grid
// point.
type MarketSnapshot struct {
	MarketID       string   `parquet:"market_id,dict"`
	Ref            string   `parquet:"ref,dict"`
	SecondsBefore  int32    `parquet:"seconds_before"`
	SnapshotTime   int64    `parquet:"snapshot_time,timestamp(millisecond:utc)"`
	LastUpdatePt   *int64   `parquet:"last_update_pt,optional,timestamp(millisecond:utc)"`
	MarketStatus   string   `parquet:"market_status,dict"`
	InPlay         bool     `parquet:"in_play"`
	BackOverround  *float64 `parquet:"back_overround,optional"`
	LayOverround   *float64 `parquet:"lay_overround,optional"`
	TradedVolume   float64  `parquet:"traded_volume"`
	NActiveRunners int32    `parquet:"n_active_runners"`
}

// Order is one row of orders: one unmatched-order update ("uo" entry) of
// an order stream.
type Order struct {
	MarketID            string  `parquet:"market_id,dict"`
	Pt                  int64   `parquet:"pt,timestamp(millisecond:utc)"`
	Seq                 int64   `parquet:"seq"`
	BetID               string  `parquet:"bet_id"`
	SelectionID         int64   `parquet:"selection_id"`
	Handicap            float64 `parquet:"handicap"`
	Side                string  `parquet:"side,dict"`
	Price               float64 `parquet:"price"`
	Size                float64 `parquet:"size"`
	BspLiability        float64 `parquet:"bsp_liability"`
	Persistence         string  `parquet:"persistence,dict"`
	OrderType           string  `parquet:"order_type,dict"`
	Status              string  `parquet:"status,dict"`
	PlacedTime          *int64  `parquet:"placed_time,optional,timestamp(millisecond:utc)"`
	MatchedTime         *int64  `parquet:"matched_time,optional,timestamp(millisecond:utc)"`
	AvgPriceMatched     float64 `parquet:"avg_price_matched"`
	SizeMatched         float64 `parquet:"size_matched"`
	SizeRemaining       float64 `parquet:"size_remaining"`
	SizeLapsed          float64 `parquet:"size_lapsed"`
	SizeCancelled       float64 `parquet:"size_cancelled"`
	SizeVoided          float64 `parquet:"size_voided"`
	CustomerStrategyRef string  `parquet:"customer_strategy_ref,dict"`
	CustomerOrderRef    string  `parquet:"customer_order_ref"`
}

// File is one row of the files table: one input (a tape, or a member of a
// tar) that a run finished. A rerun skips inputs whose row matches.
type File struct {
	Source string `parquet:"source,dict"`
	Member string `parquet:"member"`
	Bytes  int64  `parquet:"bytes"`
	// ModTime is the input file's modification time (the archive's, for a
	// tar member); ETag the object's entity tag on S3.
	ModTime    *int64 `parquet:"mod_time,optional,timestamp(millisecond:utc)"`
	ETag       string `parquet:"etag"`
	MarketIDs  string `parquet:"market_ids"` // comma-separated
	Lines      int64  `parquet:"lines"`
	BadLines   int64  `parquet:"bad_lines"`
	FirstError string `parquet:"first_error"`
	DoneAt     int64  `parquet:"done_at,timestamp(millisecond:utc)"`
	// Batch names the output files holding this input's rows
	// (part-<batch>.parquet in every table).
	Batch string `parquet:"batch,dict"`
}

// Rows holds every table's rows for one market, sorted as written: by seq,
// snapshots by (selection_id, handicap, ref, seconds_before DESC),
// runner updates by (selection_id, handicap, seq).
// Market is nil for a market seen only on an order stream.
type Rows struct {
	MarketID          string
	Market            *Market
	Runners           []Runner
	MarketDefinitions []MarketDefinition
	RunnerDefinitions []RunnerDefinition
	LadderDeltas      LadderDeltas
	// MarketStatuses are the market statuses LadderDelta.Status indexes.
	MarketStatuses  []string
	Trades          Chunked[Trade]
	Snapshots       Snapshots
	RunnerUpdates   Chunked[RunnerUpdate]
	MarketSnapshots []MarketSnapshot
	Orders          []Order
	// EventTypeID and Date are the Hive partition: the event type (Market's
	// EventTypeID in decimal, "0" when unknown or not a number) and the UTC date of market_time (of the first publish
	// time when the market has none).
	EventTypeID string
	Date        string
	// DataTier is Market.DataTier, or "recorded" for order-only rows.
	DataTier string
	// deep counts the DeepLevels the snapshots point to.
	deep int
}

// Bytes estimates the memory the rows hold, for bounding what a writer
// keeps pending: each table's row size times its rows, plus 8 bytes for
// each value an optional column points to.
func (r *Rows) Bytes() int64 {
	n := int64(len(r.Runners))*(int64(unsafe.Sizeof(Runner{}))+16*8) +
		int64(len(r.MarketDefinitions))*(int64(unsafe.Sizeof(MarketDefinition{}))+16) +
		int64(len(r.RunnerDefinitions))*(int64(unsafe.Sizeof(RunnerDefinition{}))+24) +
		int64(r.LadderDeltas.Len())*ladderDeltaBytes +
		int64(r.Trades.Len())*int64(unsafe.Sizeof(Trade{})) +
		int64(r.Snapshots.Len())*int64(unsafe.Sizeof(Snapshot{})) + int64(r.deep)*int64(unsafe.Sizeof(DeepLevels{})) +
		int64(r.RunnerUpdates.Len())*(int64(unsafe.Sizeof(RunnerUpdate{}))+6*8) +
		int64(len(r.MarketSnapshots))*(int64(unsafe.Sizeof(MarketSnapshot{}))+16) +
		int64(len(r.Orders))*(int64(unsafe.Sizeof(Order{}))+16)
	if r.Market != nil {
		n += int64(unsafe.Sizeof(Market{})) + 12*8
	}
	return n
}

// ladderDeltaBytes is what Bytes counts for a ladder delta: the size of
// the struct they were held as before LadderDeltas encoded them (5 to 10
// bytes now). Writers close batches on Bytes, and batches decide which
// file a row lands in: counting less would regroup every large dataset.
const ladderDeltaBytes = 64

// Len is the number of rows over every table.
func (r *Rows) Len() int {
	n := len(r.Runners) + len(r.MarketDefinitions) + len(r.RunnerDefinitions) + r.LadderDeltas.Len() +
		r.Trades.Len() + r.Snapshots.Len() + r.RunnerUpdates.Len() + len(r.MarketSnapshots) + len(r.Orders)
	if r.Market != nil {
		n++
	}
	return n
}
