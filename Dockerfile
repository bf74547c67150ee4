# Build: a static binary (no cgo: SQLite is pure Go).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/peoplegraph ./cmd/peoplegraph

# Run: distroless, non-root; the SQLite default lives in /data when no URL is given.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/peoplegraph /peoplegraph
WORKDIR /data
EXPOSE 8080
ENTRYPOINT ["/peoplegraph"]
CMD ["serve"]
