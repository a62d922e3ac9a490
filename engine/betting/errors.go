package betting

import (
	"errors"
	"fmt"
)

// ExecutionErrorCode is Betfair's ExecutionReportErrorCode: why a whole
// order request failed.
type ExecutionErrorCode string

// InstructionErrorCode is Betfair's InstructionReportErrorCode: why one
// instruction of an order request failed.
type InstructionErrorCode string

// APIErrorCode is the errorCode of an APINGException or
// AccountAPINGException: why a call failed before any order was touched.
type APIErrorCode string

// The ExecutionReportErrorCode values of SportsAPING.xml: why a whole
// placeOrders, cancelOrders, replaceOrders or updateOrders request failed.
const (
	// ExecErrorInMatcher: The matcher's not healthy.
	ExecErrorInMatcher ExecutionErrorCode = "ERROR_IN_MATCHER"
	// ExecProcessedWithErrors: The order itself has been accepted, but at least one (possibly all) actions have generated errors.
	ExecProcessedWithErrors ExecutionErrorCode = "PROCESSED_WITH_ERRORS"
	// ExecBetActionError: There is an error with an action that has caused the entire order to be rejected.
	ExecBetActionError ExecutionErrorCode = "BET_ACTION_ERROR"
	// ExecInvalidAccountState: Order rejected due to the account's status (suspended, inactive, dup cards).
	ExecInvalidAccountState ExecutionErrorCode = "INVALID_ACCOUNT_STATE"
	// ExecInvalidWalletStatus: Order rejected due to the account's wallet's status.
	ExecInvalidWalletStatus ExecutionErrorCode = "INVALID_WALLET_STATUS"
	// ExecInsufficientFunds: Account has exceeded its exposure limit or available to bet limit.
	ExecInsufficientFunds ExecutionErrorCode = "INSUFFICIENT_FUNDS"
	// ExecLossLimitExceeded: The account has exceed the self imposed loss limit.
	ExecLossLimitExceeded ExecutionErrorCode = "LOSS_LIMIT_EXCEEDED"
	// ExecMarketSuspended: Market is suspended.
	ExecMarketSuspended ExecutionErrorCode = "MARKET_SUSPENDED"
	// ExecMarketNotOpenForBetting: Market is not open for betting, either inactive, suspended or closed.
	ExecMarketNotOpenForBetting ExecutionErrorCode = "MARKET_NOT_OPEN_FOR_BETTING"
	// ExecDuplicateTransaction: duplicate customer referece data submitted.
	ExecDuplicateTransaction ExecutionErrorCode = "DUPLICATE_TRANSACTION"
	// ExecInvalidOrder: Order cannot be accepted by the matcher due to the combination of actions. For example, bets being edited are not on the same market, or order includes both edits and placement.
	ExecInvalidOrder ExecutionErrorCode = "INVALID_ORDER"
	// ExecInvalidMarketId: Market doesn't exist.
	ExecInvalidMarketId ExecutionErrorCode = "INVALID_MARKET_ID"
	// ExecPermissionDenied: Business rules do not allow order to be placed.
	ExecPermissionDenied ExecutionErrorCode = "PERMISSION_DENIED"
	// ExecDuplicateBetids: duplicate bet ids found.
	ExecDuplicateBetids ExecutionErrorCode = "DUPLICATE_BETIDS"
	// ExecNoActionRequired: Order hasn't been passed to matcher as system detected there will be no state change.
	ExecNoActionRequired ExecutionErrorCode = "NO_ACTION_REQUIRED"
	// ExecServiceUnavailable: The requested service is unavailable.
	ExecServiceUnavailable ExecutionErrorCode = "SERVICE_UNAVAILABLE"
	// ExecRejectedByRegulator: The regulator rejected the order.
	ExecRejectedByRegulator ExecutionErrorCode = "REJECTED_BY_REGULATOR"
	// ExecNoChasing: A specific error code that relates to Spanish Exchange markets only which indicates that the bet placed contravenes the Spanish regulatory rules relating to loss chasing.
	ExecNoChasing ExecutionErrorCode = "NO_CHASING"
	// ExecRegulatorIsNotAvailable: The underlying regulator service is not available.
	ExecRegulatorIsNotAvailable ExecutionErrorCode = "REGULATOR_IS_NOT_AVAILABLE"
	// ExecTooManyInstructions: The amount of orders exceeded the maximum amount allowed to be executed.
	ExecTooManyInstructions ExecutionErrorCode = "TOO_MANY_INSTRUCTIONS"
	// ExecInvalidMarketVersion: The supplied market version is invalid. Max length allowed for market version is 12.
	ExecInvalidMarketVersion ExecutionErrorCode = "INVALID_MARKET_VERSION"
	// ExecEventExposureLimitExceeded: Had the instructions been carried out, the account's self imposed event exposure limit would have been exceeded.
	ExecEventExposureLimitExceeded ExecutionErrorCode = "EVENT_EXPOSURE_LIMIT_EXCEEDED"
	// ExecEventMatchedExposureLimitExceeded: Had the instructions been carried out, the account's self imposed matched event exposure limit would have been exceeded.
	ExecEventMatchedExposureLimitExceeded ExecutionErrorCode = "EVENT_MATCHED_EXPOSURE_LIMIT_EXCEEDED"
	// ExecEventBlocked: Betting on this event is blocked due to exposure limit breach. unblockMarketGroup operation should be invoked to enable betting.
	ExecEventBlocked ExecutionErrorCode = "EVENT_BLOCKED"
)

// The InstructionReportErrorCode values of SportsAPING.xml: why one
// instruction of a request failed.
const (
	// InstrInvalidBetSize: Bet size is invalid for your currency or your regulator.
	InstrInvalidBetSize InstructionErrorCode = "INVALID_BET_SIZE"
	// InstrInvalidRunner: Runner does not exist, includes vacant traps in greyhound racing.
	InstrInvalidRunner InstructionErrorCode = "INVALID_RUNNER"
	// InstrBetTakenOrLapsed: Bet cannot be cancelled or modified as it has already been taken or has lapsed Includes attempts to cancel/modify market on close BSP bets and cancelling limit on close BSP bets.
	InstrBetTakenOrLapsed InstructionErrorCode = "BET_TAKEN_OR_LAPSED"
	// InstrBetInProgress: No result was received from the matcher in a timeout configured for the system.
	InstrBetInProgress InstructionErrorCode = "BET_IN_PROGRESS"
	// InstrRunnerRemoved: Runner has been removed from the event.
	InstrRunnerRemoved InstructionErrorCode = "RUNNER_REMOVED"
	// InstrMarketNotOpenForBetting: Attempt to edit a bet on a market that has closed.
	InstrMarketNotOpenForBetting InstructionErrorCode = "MARKET_NOT_OPEN_FOR_BETTING"
	// InstrLossLimitExceeded: The action has caused the account to exceed the self imposed loss limit.
	InstrLossLimitExceeded InstructionErrorCode = "LOSS_LIMIT_EXCEEDED"
	// InstrMarketNotOpenForBspBetting: Market now closed to bsp betting. Turned in-play or has been reconciled.
	InstrMarketNotOpenForBspBetting InstructionErrorCode = "MARKET_NOT_OPEN_FOR_BSP_BETTING"
	// InstrInvalidPriceEdit: Attempt to edit down the price of a bsp limit on close lay bet, or edit up the price of a limit on close back bet.
	InstrInvalidPriceEdit InstructionErrorCode = "INVALID_PRICE_EDIT"
	// InstrInvalidOdds: Odds not on price ladder - either edit or placement.
	InstrInvalidOdds InstructionErrorCode = "INVALID_ODDS"
	// InstrInsufficientFunds: Insufficient funds available to cover the bet action. Either the exposure limit or available to bet limit would be exceeded.
	InstrInsufficientFunds InstructionErrorCode = "INSUFFICIENT_FUNDS"
	// InstrInvalidPersistenceType: Invalid persistence type for this market, e.g. KEEP for a non bsp market.
	InstrInvalidPersistenceType InstructionErrorCode = "INVALID_PERSISTENCE_TYPE"
	// InstrErrorInMatcher: A problem with the matcher prevented this action completing successfully.
	InstrErrorInMatcher InstructionErrorCode = "ERROR_IN_MATCHER"
	// InstrInvalidBackLayCombination: The order contains a back and a lay for the same runner at overlapping prices. This would guarantee a self match. This also applies to BSP limit on close bets.
	InstrInvalidBackLayCombination InstructionErrorCode = "INVALID_BACK_LAY_COMBINATION"
	// InstrErrorInOrder: The action failed because the parent order failed.
	InstrErrorInOrder InstructionErrorCode = "ERROR_IN_ORDER"
	// InstrInvalidBidType: Bid type is mandatory.
	InstrInvalidBidType InstructionErrorCode = "INVALID_BID_TYPE"
	// InstrInvalidBetId: Bet for id supplied has not been found.
	InstrInvalidBetId InstructionErrorCode = "INVALID_BET_ID"
	// InstrCancelledNotPlaced: Bet cancelled but replacement bet was not placed.
	InstrCancelledNotPlaced InstructionErrorCode = "CANCELLED_NOT_PLACED"
	// InstrRelatedActionFailed: Action failed due to the failure of a action on which this action is dependent.
	InstrRelatedActionFailed InstructionErrorCode = "RELATED_ACTION_FAILED"
	// InstrNoActionRequired: the action does not result in any state change. eg changing a persistence to it's current value.
	InstrNoActionRequired InstructionErrorCode = "NO_ACTION_REQUIRED"
	// InstrInvalidMinFillSize: The minFillSize must be greater than zero and less than or equal to the order's size. The minFillSize cannot be less than the minimum bet size for your currency.
	InstrInvalidMinFillSize InstructionErrorCode = "INVALID_MIN_FILL_SIZE"
	// InstrInvalidCustomerOrderRef: The supplied customer order reference is too long.
	InstrInvalidCustomerOrderRef InstructionErrorCode = "INVALID_CUSTOMER_ORDER_REF"
	// InstrTimeInForceConflict: You may only specify a time in force on either the place request OR on individual limit order instructions (not both), since the implied behaviors are incompatible.
	InstrTimeInForceConflict InstructionErrorCode = "TIME_IN_FORCE_CONFLICT"
	// InstrUnexpectedPersistenceType: You have specified a persistence type for a FILL_OR_KILL order, which is nonsensical because no umatched portion can remain after the order has been placed.
	InstrUnexpectedPersistenceType InstructionErrorCode = "UNEXPECTED_PERSISTENCE_TYPE"
	// InstrInvalidOrderType: You have specified a time in force of FILL_OR_KILL, but have included a non-LIMIT order type.
	InstrInvalidOrderType InstructionErrorCode = "INVALID_ORDER_TYPE"
	// InstrUnexpectedMinFillSize: You have specified a minFillSize on a limit order, where the limit order's time in force is not FILL_OR_KILL. Using minFillSize is not supported where the time in force of the request (as opposed to an order) is FILL_OR_KILL.
	InstrUnexpectedMinFillSize InstructionErrorCode = "UNEXPECTED_MIN_FILL_SIZE"
	// InstrInvalidCustomerStrategyRef: The supplied customer strategy reference is too long.
	InstrInvalidCustomerStrategyRef InstructionErrorCode = "INVALID_CUSTOMER_STRATEGY_REF"
	// InstrBetLapsedPriceImprovementTooLarge: Your bet is lapsed. There is better odds than requested available in the market, but your preferences don't allow the system to match your bet against better odds. Change your betting preferences to accept better odds if you don't want to receive this error.
	InstrBetLapsedPriceImprovementTooLarge InstructionErrorCode = "BET_LAPSED_PRICE_IMPROVEMENT_TOO_LARGE"
)

// The error codes of APINGException (SportsAPING.xml) and
// AccountAPINGException (AccountAPING.xml): why a call failed as a whole.
const (
	// APITooMuchData: The operation requested too much data.
	APITooMuchData APIErrorCode = "TOO_MUCH_DATA"
	// APIInvalidInputData: Invalid input data.
	APIInvalidInputData APIErrorCode = "INVALID_INPUT_DATA"
	// APIInvalidSessionInformation: The session token passed is invalid.
	APIInvalidSessionInformation APIErrorCode = "INVALID_SESSION_INFORMATION"
	// APINoAppKey: An application key is required for this operation.
	APINoAppKey APIErrorCode = "NO_APP_KEY"
	// APINoSession: A session token is required for this operation.
	APINoSession APIErrorCode = "NO_SESSION"
	// APIUnexpectedError: An unexpected internal error occurred that prevented successful request processing.
	APIUnexpectedError APIErrorCode = "UNEXPECTED_ERROR"
	// APIInvalidAppKey: The application key passed is invalid.
	APIInvalidAppKey APIErrorCode = "INVALID_APP_KEY"
	// APITooManyRequests: There are too many pending requests.
	APITooManyRequests APIErrorCode = "TOO_MANY_REQUESTS"
	// APIServiceBusy: The service is currently too busy to service this request.
	APIServiceBusy APIErrorCode = "SERVICE_BUSY"
	// APITimeoutError: Internal call to downstream service timed out.
	APITimeoutError APIErrorCode = "TIMEOUT_ERROR"
	// APIAppKeyCreationFailed: The application key creation has failed.
	APIAppKeyCreationFailed APIErrorCode = "APP_KEY_CREATION_FAILED"
	// APIDuplicateAppName: The application name specified already exists.
	APIDuplicateAppName APIErrorCode = "DUPLICATE_APP_NAME"
	// APIAppCreationFailed: The application name specified is too long.
	APIAppCreationFailed APIErrorCode = "APP_CREATION_FAILED"
	// APIRequestSizeExceedsLimit: The request has exceeded the maximum allowed size.
	APIRequestSizeExceedsLimit APIErrorCode = "REQUEST_SIZE_EXCEEDS_LIMIT"
	// APIAccessDenied: The access to this functionality is not allowed.
	APIAccessDenied APIErrorCode = "ACCESS_DENIED"
	// APIInvalidMarketGroup: Provided market group id does not identify a known market group.
	APIInvalidMarketGroup APIErrorCode = "INVALID_MARKET_GROUP"
	// APIExposureLimitNotExist: Unable to delete/update limit as it doesn't exist.
	APIExposureLimitNotExist APIErrorCode = "EXPOSURE_LIMIT_NOT_EXIST"
	// APIMarketGroupNotBlocked: Unable to unblock market group after exposure limit breach, market group is not blocked.
	APIMarketGroupNotBlocked APIErrorCode = "MARKET_GROUP_NOT_BLOCKED"
	// APISubscriptionExpired: An application key is required for this operation.
	APISubscriptionExpired APIErrorCode = "SUBSCRIPTION_EXPIRED"
	// APIInvalidSubscriptionToken: An application key is required for this operation.
	APIInvalidSubscriptionToken APIErrorCode = "INVALID_SUBSCRIPTION_TOKEN"
	// APIInvalidClientRef: Invalid length for the client reference.
	APIInvalidClientRef APIErrorCode = "INVALID_CLIENT_REF"
	// APIWalletTransferError: There was a problem transferring funds between your wallets.
	APIWalletTransferError APIErrorCode = "WALLET_TRANSFER_ERROR"
	// APIInvalidVendorClientId: The vendor client ID is not subscribed to this application key.
	APIInvalidVendorClientId APIErrorCode = "INVALID_VENDOR_CLIENT_ID"
	// APIUserNotSubscribed: The user making the request is not subscribed to the application key they are trying to perform the action on (e.g. creating an Authorisation Code).
	APIUserNotSubscribed APIErrorCode = "USER_NOT_SUBSCRIBED"
	// APIInvalidSecret: The vendor making the request has provided a vendor secret that does not match our records.
	APIInvalidSecret APIErrorCode = "INVALID_SECRET"
	// APIInvalidAuthCode: The vendor making the request has not provided a valid authorisation code.
	APIInvalidAuthCode APIErrorCode = "INVALID_AUTH_CODE"
	// APIInvalidGrantType: The vendor making the request has not provided a valid grant_type, or the grant_type they have passed does not match the parameters (authCode/refreshToken).
	APIInvalidGrantType APIErrorCode = "INVALID_GRANT_TYPE"
)

// ErrOutcomeUnknown is what an *UnknownOutcomeError matches with errors.Is:
// a request may or may not have taken effect.
var ErrOutcomeUnknown = errors.New("betting: outcome unknown")

// UnknownOutcomeError is an order request that was sent and got no usable
// answer: a timeout, a dropped connection, a TIMEOUT status, an error page
// from a proxy. The orders may or may not exist on the exchange; the caller
// must look them up (listCurrentOrders by customerOrderRef, or the order
// stream) and must not treat them as failed. Resending the very same
// request (the same customerRef) is safe within Betfair's 60 s window: a
// copy that already went through is refused with DUPLICATE_TRANSACTION.
type UnknownOutcomeError struct {
	Method   string
	MarketID string
	// CustomerRef is the request's customerRef, to resend it with.
	CustomerRef string
	// Cause says what happened (no secret: requests are never quoted).
	Cause error
}

// Error says which request and why its outcome is unknown.
func (e *UnknownOutcomeError) Error() string {
	return fmt.Sprintf("betting: %s on market %s (customerRef %q): outcome unknown: %v", e.Method, e.MarketID, e.CustomerRef, e.Cause)
}

// Unwrap returns the cause.
func (e *UnknownOutcomeError) Unwrap() error { return e.Cause }

// Is makes errors.Is(err, ErrOutcomeUnknown) true.
func (e *UnknownOutcomeError) Is(target error) bool { return target == ErrOutcomeUnknown }

// ExecutionError is an order request the exchange refused as a whole
// (status FAILURE): no instruction took effect, except with
// PROCESSED_WITH_ERRORS, where the instruction reports say which did.
type ExecutionError struct {
	Method      string
	MarketID    string
	CustomerRef string
	Code        ExecutionErrorCode
	// Instructions are the instruction-level errors, in request order
	// (empty code for an instruction that succeeded).
	Instructions []InstructionErrorCode
}

// Error names the request and the code.
func (e *ExecutionError) Error() string {
	s := fmt.Sprintf("betting: %s on market %s refused: %s", e.Method, e.MarketID, e.Code)
	for i, c := range e.Instructions {
		if c != "" && c != InstrErrorInOrder {
			s += fmt.Sprintf("; instruction %d: %s", i, c)
		}
	}
	return s
}

// InstructionError is one instruction's failure.
type InstructionError struct {
	// Index is the instruction's position in its request.
	Index int
	Code  InstructionErrorCode
}

// Error names the instruction and its code.
func (e *InstructionError) Error() string {
	return fmt.Sprintf("betting: instruction %d: %s", e.Index, e.Code)
}

// LimitError is a request the client refused to send because it breaks a
// limit Betfair would refuse it for (too many instructions, a bad
// reference).
type LimitError struct {
	Method string
	Reason string
}

// Error says what was refused and why.
func (e *LimitError) Error() string {
	return fmt.Sprintf("betting: %s not sent: %s", e.Method, e.Reason)
}

// ErrorCode returns the typed error code of an APIError.
func (e *APIError) ErrorCode() APIErrorCode { return APIErrorCode(e.Code) }

// IsAPIError reports whether err is an APIError with the given code.
func IsAPIError(err error, code APIErrorCode) bool {
	var ae *APIError
	return errors.As(err, &ae) && APIErrorCode(ae.Code) == code
}

// IsExecutionError reports whether err is an ExecutionError with the
// given code.
func IsExecutionError(err error, code ExecutionErrorCode) bool {
	var ee *ExecutionError
	return errors.As(err, &ee) && ee.Code == code
}

// ErrorCode names err in one word, for an order's error code and metrics'
// labels: the execution or API error code Betfair gave, OUTCOME_UNKNOWN
// for an answer that never came, NOT_SENT for a request refused before
// sending (*LimitError), DRY_RUN for a request a dry run kept back,
// HTTP_<status> for an answer that was not
// JSON-RPC, REQUEST_FAILED for anything else; "" for nil.
func ErrorCode(err error) string {
	var ee *ExecutionError
	var ae *APIError
	var le *LimitError
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrOutcomeUnknown):
		return "OUTCOME_UNKNOWN"
	case errors.As(err, &ee):
		return string(ee.Code)
	case errors.As(err, &ae) && ae.Code != "":
		return ae.Code
	case errors.As(err, &ae):
		return fmt.Sprintf("HTTP_%d", ae.HTTPStatus)
	case errors.As(err, &le):
		return "NOT_SENT"
	case errors.Is(err, ErrDryRun):
		return "DRY_RUN"
	}
	return "REQUEST_FAILED"
}
