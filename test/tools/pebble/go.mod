// Builds Pebble, Let's Encrypt's test ACME CA, and its challenge test server (DNS) for the ACME tests.
// test/support/binaries.ts builds the tools listed below; bump the version with
// `go get github.com/letsencrypt/pebble/v2@vX.Y.Z && go mod tidy`.
module kube-lego.test/tools/pebble

go 1.26

tool (
	github.com/letsencrypt/pebble/v2/cmd/pebble
	github.com/letsencrypt/pebble/v2/cmd/pebble-challtestsrv
)

require (
	github.com/go-jose/go-jose/v4 v4.1.4 // indirect
	github.com/letsencrypt/challtestsrv v1.4.2 // indirect
	github.com/letsencrypt/pebble/v2 v2.10.1 // indirect
	github.com/miekg/dns v1.1.62 // indirect
	golang.org/x/mod v0.24.0 // indirect
	golang.org/x/net v0.40.0 // indirect
	golang.org/x/sync v0.14.0 // indirect
	golang.org/x/sys v0.33.0 // indirect
	golang.org/x/tools v0.33.0 // indirect
)
