package exchange

// eventTypeName is the name Betfair gives an event type (its navigation
// menu's EVENT_TYPE nodes, ../shared/data/api/navigation_menu.json), or ""
// for an id it does not list. A catalogue entry built from a market
// definition needs it: the definition carries only eventTypeId, while
// Betfair's listMarketCatalogue always names the event type and clients
// rely on that (betfairlightweight's EventType will not build without a
// name, so flumine's catalogue poll failed on such entries).
func eventTypeName(id string) string {
	switch id {
	case "1":
		return "Soccer"
	case "2":
		return "Tennis"
	case "3":
		return "Golf"
	case "4":
		return "Cricket"
	case "5":
		return "Rugby Union"
	case "6":
		return "Boxing"
	case "7":
		return "Horse Racing"
	case "8":
		return "Motor Sport"
	case "10":
		return "Special Bets"
	case "11":
		return "Cycling"
	case "1477":
		return "Rugby League"
	case "3503":
		return "Darts"
	case "3988":
		return "Athletics"
	case "4339":
		return "Greyhound Racing"
	case "6231":
		return "Financial Bets"
	case "6422":
		return "Snooker"
	case "6423":
		return "American Football"
	case "7511":
		return "Baseball"
	case "7522":
		return "Basketball"
	case "7524":
		return "Ice Hockey"
	case "61420":
		return "Australian Rules"
	case "451485":
		return "Winter Sports"
	case "468328":
		return "Handball"
	case "998917":
		return "Volleyball"
	case "2152880":
		return "Gaelic Games"
	case "2378961":
		return "Politics"
	case "26420387":
		return "Mixed Martial Arts"
	case "27454571":
		return "Esports"
	}
	return ""
}
