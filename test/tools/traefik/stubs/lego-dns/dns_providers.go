// Replacement for lego's generated
// providers/dns/zz_gen_dns_providers.go: this Traefik build for kube-lego
// needs only HTTP-01, so no DNS-01 provider (and none of their SDKs) is linked.
package dns

import (
	"fmt"

	"github.com/go-acme/lego/v5/challenge"
)

// NewDNSChallengeProviderByName always fails in this build.
func NewDNSChallengeProviderByName(name string) (challenge.Provider, error) {
	return nil, fmt.Errorf("DNS provider %q: DNS-01 providers are not available in this build", name)
}
