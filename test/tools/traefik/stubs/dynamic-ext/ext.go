// Package ext is a local stand-in for Traefik's nested module
// github.com/traefik/traefik/dynamic/ext, which the module proxy does not serve.
// Traefik embeds ext.HTTP and ext.Router (inline) in its dynamic configuration
// types; this build adds no extension fields to them.
package ext

// HTTP holds extra fields inlined into dynamic.HTTPConfiguration (none here).
type HTTP struct{}

// Router holds extra fields inlined into dynamic.Router (none here).
type Router struct{}
