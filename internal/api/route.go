// Package api is revhub's HTTP API: routes with declared scopes, API-key authentication,
// request limits, health, metrics and the OpenAPI document.
package api

import "net/http"

// Scope is the permission a route requires of the API key that calls it.
type Scope string

// Scopes. A key with ScopeAdmin may call everything; ScopePublic routes need no key;
// ScopeWebhook routes authenticate by the sender's signature instead of an API key.
const (
	ScopePublic      Scope = "public"
	ScopeWebhook     Scope = "webhook"
	ScopeEventsWrite Scope = "events:write"
	ScopeRead        Scope = "read"
	ScopeWrite       Scope = "write"
	ScopeAdmin       Scope = "admin"
)

// Route is one endpoint: a Go 1.22 ServeMux pattern, the scope it requires and its handler.
type Route struct {
	Method  string // GET, POST, ...
	Path    string // ServeMux path pattern, e.g. /v1/meters/{slug}/query
	Scope   Scope
	Summary string // one line, also in the OpenAPI document
	Handler http.HandlerFunc
	MaxBody int64 // request body limit in bytes; 0 means the server default
}
