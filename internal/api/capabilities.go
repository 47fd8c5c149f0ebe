package api

// Capabilities are the services behind the capability routes; nil ones still declare their
// routes (so the route table and OpenAPI check see them) but answer 503 when called.
type Capabilities struct{}

// CapabilityRoutes is the production list of capability routes.
func CapabilityRoutes(c Capabilities) []Route {
	var out []Route
	return out
}
