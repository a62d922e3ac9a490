package esa

// MarketStatus is a market's status as its definition gives it. The
// definition's Status field stays a plain string (it is decoded straight
// from the line); code that decides on a status compares against these.
type MarketStatus string

// The market statuses of the Exchange Stream API.
const (
	MarketInactive  MarketStatus = "INACTIVE"
	MarketOpen      MarketStatus = "OPEN"
	MarketSuspended MarketStatus = "SUSPENDED"
	MarketClosed    MarketStatus = "CLOSED"
)

// RunnerStatus is a runner's status as a market definition gives it.
type RunnerStatus string

// The runner statuses of the Exchange Stream API.
const (
	RunnerActive        RunnerStatus = "ACTIVE"
	RunnerWinner        RunnerStatus = "WINNER"
	RunnerLoser         RunnerStatus = "LOSER"
	RunnerPlaced        RunnerStatus = "PLACED"
	RunnerRemoved       RunnerStatus = "REMOVED"
	RunnerRemovedVacant RunnerStatus = "REMOVED_VACANT"
	RunnerHidden        RunnerStatus = "HIDDEN"
)
