# Makefile — shortcuts for a clone; each target is one script or go command,
# so nothing here is needed to build tapedeck (see README, "Install").

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
IMAGE   ?= tapedeck:$(VERSION)

.PHONY: build install release test demo docker clean

build:     ## static binaries for this machine into dist/<os>_<arch>/
	VERSION=$(VERSION) scripts/build.sh

install:   ## tapedeck, record, convert and trade into $(go env GOPATH)/bin
	go install ./cmd/...

release:   ## linux and darwin, amd64 and arm64, archived, with SHA256SUMS
	VERSION=$(VERSION) scripts/build.sh --release

test:      ## what CI runs
	scripts/test.sh

demo:      ## the bundled samples end to end, into ./demo/
	scripts/demo.sh

docker:    ## the container image (distroless, non-root)
	docker build --build-arg VERSION=$(VERSION) -t $(IMAGE) .

clean:
	rm -rf dist demo
