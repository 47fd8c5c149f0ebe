package provider

import (
	"fmt"
	"slices"

	"github.com/revhub/revhub/internal/money"
)

// Registry holds the configured providers, the currencies each accepts and the fallback provider
// per currency, and chooses the provider for a customer's charge.
type Registry struct {
	providers  map[Name]Provider
	currencies map[Name][]money.Currency
	fallback   map[money.Currency]Name
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{providers: map[Name]Provider{}, currencies: map[Name][]money.Currency{}, fallback: map[money.Currency]Name{}}
}

// Register adds p, accepting the given currencies (none means every currency).
func (r *Registry) Register(p Provider, currencies ...money.Currency) {
	r.providers[p.Name()] = p
	r.currencies[p.Name()] = currencies
}

// SetFallback makes name the provider for charges in cur when the customer has no usable choice.
func (r *Registry) SetFallback(cur money.Currency, name Name) error {
	if _, ok := r.providers[name]; !ok {
		return fmt.Errorf("fallback for %s: provider %q is not registered", cur, name)
	}
	if !r.accepts(name, cur) {
		return fmt.Errorf("fallback for %s: provider %q does not accept %s", cur, name, cur)
	}
	r.fallback[cur] = name
	return nil
}

// Get returns the registered provider called name.
func (r *Registry) Get(name Name) (Provider, bool) {
	p, ok := r.providers[name]
	return p, ok
}

// Choose returns the customer's preferred provider when it is registered and accepts cur,
// otherwise the fallback for cur, otherwise an error naming both.
func (r *Registry) Choose(preferred Name, cur money.Currency) (Provider, error) {
	if p, ok := r.providers[preferred]; ok && r.accepts(preferred, cur) {
		return p, nil
	}
	if name, ok := r.fallback[cur]; ok {
		return r.providers[name], nil
	}
	if preferred == "" {
		return nil, fmt.Errorf("choose provider: no customer preference and no fallback provider for %s", cur)
	}
	return nil, fmt.Errorf("choose provider: %q is not registered or does not accept %s, and there is no fallback for %s", preferred, cur, cur)
}

func (r *Registry) accepts(name Name, cur money.Currency) bool {
	cs := r.currencies[name]
	return len(cs) == 0 || slices.Contains(cs, cur)
}
