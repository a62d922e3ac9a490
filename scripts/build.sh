#!/usr/bin/env bash
# scripts/build.sh — the release build; CI (scripts/test.sh) and the
# Dockerfile's build stage run it too, so what ships is what was tested.
# Builds every command (tapedeck, record, convert, trade) as static
# (CGO_ENABLED=0), path-free (-trimpath) binaries with the version stamped in.
#
#   scripts/build.sh                 this machine's platform, into dist/<os>_<arch>/
#   scripts/build.sh linux/arm64 …   the platforms named
#   scripts/build.sh --release       linux/amd64 linux/arm64 darwin/amd64 darwin/arm64,
#                                    each also as dist/tapedeck_<version>_<os>_<arch>.tar.gz,
#                                    with dist/SHA256SUMS
#
# VERSION (default: git describe, else "devel") is what --version prints;
# OUT (default dist) is where the binaries go.
set -euo pipefail
cd "$(dirname "$0")/.."

out=${OUT:-dist}
version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo devel)}
release=false
platforms=()
for a in "$@"; do
	case "$a" in
	--release) release=true; platforms+=(linux/amd64 linux/arm64 darwin/amd64 darwin/arm64) ;;
	*/*) platforms+=("$a") ;;
	*) echo "build.sh: $a: want OS/ARCH (e.g. linux/arm64) or --release" >&2; exit 2 ;;
	esac
done
[ ${#platforms[@]} -gt 0 ] || platforms=("$(go env GOOS)/$(go env GOARCH)")

mkdir -p "$out"
for p in "${platforms[@]}"; do
	os=${p%/*} arch=${p#*/}
	dir="$out/${os}_${arch}"
	echo "build.sh: $version for $os/$arch into $dir/"
	mkdir -p "$dir"
	CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath \
		-ldflags "-s -w -X github.com/tapedeck/tapedeck/internal/cli.version=$version" \
		-o "$dir/" ./cmd/tapedeck ./cmd/record ./cmd/convert ./cmd/trade
	if $release; then
		tar -C "$dir" -czf "$out/tapedeck_${version}_${os}_${arch}.tar.gz" tapedeck record convert trade
	fi
done
if $release; then
	(cd "$out" && sha256sum tapedeck_"${version}"_*.tar.gz > SHA256SUMS)
fi
