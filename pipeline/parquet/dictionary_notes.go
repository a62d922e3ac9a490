package parquet

// dictionaryNotes ends docs/dataset.md: how the columns compare with the
// figures analysts compute by hand, as interop's TestDataset/Tutorials checks
// them. It lives apart from the generated tables so that it can be edited
// without touching the schema's documentation.
const dictionaryNotes = `
## Notes: the columns and the Betfair Data Scientists' tutorials

interop's ` + "`TestDataset/Tutorials`" + ` computes what the Betfair Data Scientists'
tutorials compute, JSON to CSV (betfair-datascientists.github.io
` + "`tutorials/jsonToCsvTutorial`" + `, code in betfair-down-under/autoHubTutorials
` + "`jsonToCsv/main.py`" + `) and Processing TAR Files 101
(` + "`tutorials/processingTarFiles101`" + `), from ` + "`convert books`" + ` output, and
compares it with every runner and every snapshot cell of the sample tapes
and the shared greyhound archive. The definitions agree: result and BSP
from the final book; ` + "`pp_min`" + `, ` + "`pp_max`" + `, ` + "`pp_wap`" + ` and ` + "`pp_traded_volume`" + `
from the traded ladder just before the off, ` + "`pp_ltp`" + ` that book's last traded
price; ` + "`ip_*`" + ` from what the ladder gained between the turn in play and the
suspension at the end of the race, ` + "`ip_ltp`" + ` the last traded price there; a
snapshot's ` + "`traded_volume`" + ` (the ladder's sum), ` + "`wap`" + ` (sum of price × size over
volume), ` + "`ltp`" + `, status, reduction factor, best three prices and sizes a
side, and SP near and far, as of its grid point (the backtesting tutorial,
` + "`tutorials/backtestingRatingsTutorial`" + `, takes its prices three minutes
before the start from the first book after that moment, which looks ahead;
a snapshot is the book as of the moment). Where they differ, Betfair's
data decides. The tutorials read pre-play at the line that suspends the
market, and that line can already carry SP-reconciliation trades (in the
recorded 1.197931751 it holds the BSPs and trades at them): the dataset
counts those in ` + "`sp_traded_volume`" + `, not pre-play. TAR Files 101's
` + "`bsp_volume`" + ` (the smaller of the SP back stake taken and the SP lay liability
taken over BSP - 1) is not ` + "`sp_traded_volume`" + `: it reads the SP ladders at the
suspension, before reconciliation; after it Betfair's SP ladders hold one
level, at the BSP, of the stake and liability matched at SP, and SP bets
matched against each other never reach the traded ladder, so
` + "`sp_traded_volume`" + ` (what the traded ladder gained at reconciliation) is a
small part of the money matched at SP (1,496 on the samples, against 24,603
by the tutorial's formula on the reconciled book; README's "SP-matched
volume per runner" reads those from ` + "`ladder_deltas`" + `). The tutorials skip BASIC
tapes and markets that never leave OPEN. ` + "`ip_ltp`" + ` is the last traded price
Betfair states with the runner's last trade in play, not the one the
settlement line that empties the ladder carries (1.200806927: 1.4 and 2.5
for a match that ended at 1.01 and 1000), which no trade made; and a price
is traded in play when its traded size grew in play, net, so a size that
moved a cent down at the turn and back up in play (1.200806927's 228749 at
9) is not.
`
