package api_test

import "github.com/revhub/revhub/internal/api"

// AllRoutes is the production route table, built without dependencies (handlers are not called).
func AllRoutes() []api.Route {
	return api.New(api.Deps{Routes: api.CapabilityRoutes(api.Capabilities{})}).Routes()
}
