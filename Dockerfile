# The tapedeck image: static binaries on distroless, run as a non-root user.
#   docker build --build-arg VERSION=$(git describe --tags --always) -t tapedeck .
#   docker run --rm tapedeck convert stats s3://bucket/tapes/
# For a job runner that passes no shell but needs one to expand variables
# (AWS Batch's array index; see docs/scale.md), the batch target is the same
# binaries on distroless's busybox variant with `sh -c` as entry point:
#   docker build --target batch -t tapedeck:batch .

FROM --platform=$BUILDPLATFORM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=devel
ARG TARGETOS=linux
ARG TARGETARCH=amd64
# The same script CI runs (scripts/test.sh builds with it), cross-compiled
# for the image's platform.
RUN VERSION=$VERSION OUT=/out scripts/build.sh "$TARGETOS/$TARGETARCH" \
	&& mv "/out/${TARGETOS}_${TARGETARCH}" /out/bin

FROM gcr.io/distroless/static-debian12:debug-nonroot AS batch
COPY --from=build /out/bin/ /usr/local/bin/
USER nonroot:nonroot
WORKDIR /home/nonroot
ENTRYPOINT ["/busybox/sh", "-c"]

# The default image (last stage): no shell, nothing but the binaries:
# tapedeck, and record, convert and trade for cron-style command lines.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/bin/ /usr/local/bin/
USER nonroot:nonroot
WORKDIR /home/nonroot
ENTRYPOINT ["/usr/local/bin/tapedeck"]
