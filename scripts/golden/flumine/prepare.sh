#!/usr/bin/env bash
# Prepares FLUMINE_ROOT for run_all.sh: flumine 2.13.9 and betfairlightweight
# source trees (package directories only) exported from local git clones, and
# Debian's packages for flumine's pure-Python dependencies. No PyPI.
#
#   FLUMINE_GIT=path/to/flumine.git \
#   BFLW_GIT=path/to/betfair.git \
#   FLUMINE_ROOT=/tmp/fl8 scripts/golden/flumine/prepare.sh
#
# FLUMINE_GIT and BFLW_GIT: git clones (or bare mirrors) of betcode-org/flumine
# and betcode-org/betfair.
set -euo pipefail

root="${FLUMINE_ROOT:-/tmp/fl8}"
flumine_commit=5bda83af003aa35ae78f913a347dce6e1a647e6f # flumine 2.13.9
bflw_commit=83758c9107ffcbea5c0e088274d02590f78554ef    # betfairlightweight 2.22.0

mkdir -p "$root/flumine" "$root/betfair"
# Only the package directories: the clones' large test resources may be absent.
git -C "$FLUMINE_GIT" archive "$flumine_commit" flumine examples pyproject.toml LICENSE |
	tar x -C "$root/flumine"
git -C "$BFLW_GIT" archive "$bflw_commit" betfairlightweight pyproject.toml LICENSE |
	tar x -C "$root/betfair"

if [ "${SKIP_APT:-}" = "" ]; then
	apt-get update -q
	apt-get install -y -q python3-tenacity python3-pythonjsonlogger python3-smart-open python3-requests
fi

here="$(cd "$(dirname "$0")" && pwd)"
PYTHONPATH="$here/stubs:$root/flumine:$root/betfair" /usr/bin/python3 -c \
	'import flumine, betfairlightweight as b; from flumine import FlumineSimulation; print("flumine", flumine.__version__ if hasattr(flumine, "__version__") else "?", "bflw", b.__version__)'
