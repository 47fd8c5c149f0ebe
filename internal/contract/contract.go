// Package contract holds revhub's contract model: versions, price components, ramps, commits,
// credits and discounts, the contract document format (JSON or YAML) and its validation.
package contract

import (
	"fmt"
	"sort"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/money"
)

// Contract is a customer agreement identified by a stable id, made of versions that take effect on dates.
type Contract struct {
	ID       string    `json:"id" yaml:"id"`
	Versions []Version `json:"versions" yaml:"versions"`
}

// Version is one complete, immutable statement of a contract's terms from EffectiveFrom on.
type Version struct {
	ContractID      string          `json:"contract_id" yaml:"contract_id"`
	Version         int             `json:"version" yaml:"version"`
	EffectiveFrom   Date            `json:"effective_from,omitzero" yaml:"effective_from,omitempty"`
	Status          Status          `json:"status" yaml:"status"`
	Customer        Customer        `json:"customer" yaml:"customer"`
	Currency        money.Currency  `json:"currency" yaml:"currency"`
	BillingEntity   string          `json:"billing_entity" yaml:"billing_entity"`
	PaymentProvider PaymentProvider `json:"payment_provider" yaml:"payment_provider"`
	PaymentMethod   string          `json:"payment_method,omitempty" yaml:"payment_method,omitempty"`
	Start           Date            `json:"start" yaml:"start"`
	End             Date            `json:"end,omitzero" yaml:"end,omitempty"`
	Billing         Billing         `json:"billing" yaml:"billing"`
	Meters          []Meter         `json:"meters,omitempty" yaml:"meters,omitempty"`
	Components      []Component     `json:"components" yaml:"components"`
	Commit          *Commit         `json:"commit,omitempty" yaml:"commit,omitempty"`
	Credits         []CreditGrant   `json:"credits,omitempty" yaml:"credits,omitempty"`
	Discounts       []Discount      `json:"discounts,omitempty" yaml:"discounts,omitempty"`
}

// Status is a contract version's life-cycle state.
type Status string

// Contract statuses.
const (
	StatusDraft     Status = "draft"
	StatusActive    Status = "active"
	StatusEnded     Status = "ended"
	StatusCancelled Status = "cancelled"
)

// Customer identifies who is billed; ExternalID is the id in the CRM and payment provider.
type Customer struct {
	ExternalID string `json:"external_id" yaml:"external_id"`
	Name       string `json:"name,omitempty" yaml:"name,omitempty"`
}

// PaymentProvider is how the customer pays.
type PaymentProvider string

// Payment providers.
const (
	ProviderStripe PaymentProvider = "stripe"
	ProviderPayPal PaymentProvider = "paypal"
	ProviderBank   PaymentProvider = "bank"
)

// Billing is the invoicing rhythm: cadence and whether recurring fees are billed in advance or in arrears.
type Billing struct {
	Cadence Cadence `json:"cadence" yaml:"cadence"`
	Timing  Timing  `json:"timing" yaml:"timing"`
}

// Cadence is the length of a billing period.
type Cadence string

// Billing cadences.
const (
	Monthly   Cadence = "monthly"
	Quarterly Cadence = "quarterly"
	Annual    Cadence = "annual"
)

// Months returns the number of calendar months in one period of the cadence, or 0 if unknown.
func (c Cadence) Months() int {
	switch c {
	case Monthly:
		return 1
	case Quarterly:
		return 3
	case Annual:
		return 12
	}
	return 0
}

// Timing says when recurring fees are billed; usage is always billed in arrears.
type Timing string

// Billing timings.
const (
	InAdvance Timing = "in_advance"
	InArrears Timing = "in_arrears"
)

// Meter declares a usage meter the contract prices; GroupBy names the event property that splits it (e.g. "model").
type Meter struct {
	ID      string `json:"id" yaml:"id"`
	Unit    string `json:"unit,omitempty" yaml:"unit,omitempty"`
	GroupBy string `json:"group_by,omitempty" yaml:"group_by,omitempty"`
}

// PriceModel is the kind of a component's price.
type PriceModel string

// Price models.
const (
	PerUnit    PriceModel = "per_unit"   // quantity x unit price
	Graduated  PriceModel = "graduated"  // each tier's units at that tier's price
	Volume     PriceModel = "volume"     // all units at the price of the tier the quantity reaches
	Package    PriceModel = "package"    // per started block of package_size units
	Flat       PriceModel = "flat"       // fixed recurring fee per period
	Seats      PriceModel = "seats"      // unit price per seat per period, prorated daily on changes
	Percentage PriceModel = "percentage" // percent of a metered amount, per-transaction fee, min and max
)

// Usage reports whether the model prices metered usage (billed in arrears).
func (m PriceModel) Usage() bool {
	switch m {
	case PerUnit, Graduated, Volume, Package, Percentage:
		return true
	}
	return false
}

// Component is one priced clause of a contract: a product, its price model and, for usage, its meter.
type Component struct {
	ID        string          `json:"id" yaml:"id"`
	Product   string          `json:"product" yaml:"product"`
	Name      string          `json:"name,omitempty" yaml:"name,omitempty"`
	Model     PriceModel      `json:"model" yaml:"model"`
	Meter     string          `json:"meter,omitempty" yaml:"meter,omitempty"`
	Group     string          `json:"group,omitempty" yaml:"group,omitempty"`
	FreeUnits decimal.Decimal `json:"free_units,omitzero" yaml:"free_units,omitempty"`
	Price     Price           `json:"price" yaml:"price"`
	Ramps     []Ramp          `json:"ramps,omitempty" yaml:"ramps,omitempty"`
	Discount  *Discount       `json:"discount,omitempty" yaml:"discount,omitempty"`
}

// Price holds a price model's parameters; which fields apply depends on the model.
type Price struct {
	UnitPrice    decimal.Decimal  `json:"unit_price,omitzero" yaml:"unit_price,omitempty"`       // per_unit, seats
	Tiers        []Tier           `json:"tiers,omitempty" yaml:"tiers,omitempty"`                // graduated, volume
	PackageSize  decimal.Decimal  `json:"package_size,omitzero" yaml:"package_size,omitempty"`   // package
	PackagePrice decimal.Decimal  `json:"package_price,omitzero" yaml:"package_price,omitempty"` // package
	Amount       decimal.Decimal  `json:"amount,omitzero" yaml:"amount,omitempty"`               // flat
	Percent      decimal.Decimal  `json:"percent,omitzero" yaml:"percent,omitempty"`             // percentage, e.g. 2.9
	FixedFee     decimal.Decimal  `json:"fixed_fee,omitzero" yaml:"fixed_fee,omitempty"`         // percentage, per transaction
	MinFee       *decimal.Decimal `json:"min_fee,omitempty" yaml:"min_fee,omitempty"`            // percentage, per transaction
	MaxFee       *decimal.Decimal `json:"max_fee,omitempty" yaml:"max_fee,omitempty"`            // percentage, per transaction
	Seats        int64            `json:"seats,omitempty" yaml:"seats,omitempty"`                // seats committed at start
}

// Tier is one band of a tiered price: units in (From, UpTo] at UnitPrice plus FlatFee; a nil UpTo is unbounded.
type Tier struct {
	From      decimal.Decimal  `json:"from" yaml:"from"`
	UpTo      *decimal.Decimal `json:"up_to,omitempty" yaml:"up_to,omitempty"`
	UnitPrice decimal.Decimal  `json:"unit_price" yaml:"unit_price"`
	FlatFee   decimal.Decimal  `json:"flat_fee,omitzero" yaml:"flat_fee,omitempty"`
}

// Ramp replaces a component's price for the half-open date range [From, To); To may be unset (open-ended).
type Ramp struct {
	From  Date  `json:"from" yaml:"from"`
	To    Date  `json:"to,omitzero" yaml:"to,omitempty"`
	Price Price `json:"price" yaml:"price"`
}

// DiscountKind is how a discount reduces a charge.
type DiscountKind string

// Discount kinds.
const (
	DiscountPercent DiscountKind = "percent"
	DiscountFixed   DiscountKind = "fixed"
)

// Discount reduces a component (when set on it) or the whole invoice (when listed on the version) per period.
type Discount struct {
	ID      string          `json:"id,omitempty" yaml:"id,omitempty"`
	Kind    DiscountKind    `json:"kind" yaml:"kind"`
	Percent decimal.Decimal `json:"percent,omitzero" yaml:"percent,omitempty"`
	Amount  decimal.Decimal `json:"amount,omitzero" yaml:"amount,omitempty"`
	From    Date            `json:"from,omitzero" yaml:"from,omitempty"`
	To      Date            `json:"to,omitzero" yaml:"to,omitempty"`
}

// Commit is a minimum spend per billing period over the listed components (all usage components when empty);
// a shortfall is billed as a true-up line.
type Commit struct {
	Amount     decimal.Decimal `json:"amount" yaml:"amount"`
	Components []string        `json:"components,omitempty" yaml:"components,omitempty"`
	Product    string          `json:"product,omitempty" yaml:"product,omitempty"`
}

// CreditGrant is prepaid credit drawn down against usage charges.
// A one-off grant (Every empty) is granted once on GrantedOn; a recurring grant (Every "period") is granted
// at the start of each billing period and, unless Rollover, lapses at that period's end.
type CreditGrant struct {
	ID         string          `json:"id" yaml:"id"`
	Amount     decimal.Decimal `json:"amount" yaml:"amount"`
	GrantedOn  Date            `json:"granted_on,omitzero" yaml:"granted_on,omitempty"`
	ExpiresOn  Date            `json:"expires_on,omitzero" yaml:"expires_on,omitempty"`
	Every      string          `json:"every,omitempty" yaml:"every,omitempty"`
	Rollover   bool            `json:"rollover,omitempty" yaml:"rollover,omitempty"`
	Priority   int             `json:"priority,omitempty" yaml:"priority,omitempty"`
	Components []string        `json:"components,omitempty" yaml:"components,omitempty"`
}

// GrantEveryPeriod marks a credit grant renewed each billing period.
const GrantEveryPeriod = "period"

// Component returns the component with the given id.
func (v *Version) Component(id string) (*Component, bool) {
	for i := range v.Components {
		if v.Components[i].ID == id {
			return &v.Components[i], true
		}
	}
	return nil, false
}

// MeterByID returns the declared meter with the given id.
func (v *Version) MeterByID(id string) (Meter, bool) {
	for _, m := range v.Meters {
		if m.ID == id {
			return m, true
		}
	}
	return Meter{}, false
}

// EffectiveStart is the first day the version applies: EffectiveFrom, or Start when unset.
func (v *Version) EffectiveStart() Date {
	if v.EffectiveFrom.IsZero() {
		return v.Start
	}
	return v.EffectiveFrom
}

// PriceOn returns the component's price in force on day d: the ramp covering d, else the base price.
func (c *Component) PriceOn(d Date) (Price, int) {
	for i, r := range c.Ramps {
		if !d.Before(r.From) && (r.To.IsZero() || d.Before(r.To)) {
			return r.Price, i
		}
	}
	return c.Price, -1
}

// Sorted returns the contract's versions ordered by version number.
func (c *Contract) Sorted() []Version {
	vs := append([]Version(nil), c.Versions...)
	sort.Slice(vs, func(i, j int) bool { return vs[i].Version < vs[j].Version })
	return vs
}

// Latest returns the highest-numbered version.
func (c *Contract) Latest() (Version, bool) {
	vs := c.Sorted()
	if len(vs) == 0 {
		return Version{}, false
	}
	return vs[len(vs)-1], true
}

// VersionOn returns the version in force on day d: the highest-numbered version whose effective start is on or before d.
func (c *Contract) VersionOn(d Date) (Version, bool) {
	var best *Version
	for i := range c.Versions {
		v := &c.Versions[i]
		if v.EffectiveStart().After(d) {
			continue
		}
		if best == nil || v.Version > best.Version {
			best = v
		}
	}
	if best == nil {
		return Version{}, false
	}
	return *best, true
}

// Amend appends next as a new version after checking it keeps the invoiced past intact:
// its number follows the latest, it takes effect on or after invoicedThrough (the end of the last invoiced period)
// and after the latest version's effective date, and it validates.
func (c *Contract) Amend(next Version, invoicedThrough Date) error {
	var problems Problems
	latest, ok := c.Latest()
	if !ok {
		return fmt.Errorf("amend contract %s: no version to amend", c.ID)
	}
	if next.ContractID != c.ID {
		problems.Add("contract_id", "must be %q, got %q", c.ID, next.ContractID)
	}
	if next.Version != latest.Version+1 {
		problems.Add("version", "must be %d (the next version), got %d", latest.Version+1, next.Version)
	}
	if next.EffectiveFrom.IsZero() {
		problems.Add("effective_from", "required for an amendment")
	} else {
		if !invoicedThrough.IsZero() && next.EffectiveFrom.Before(invoicedThrough) {
			problems.Add("effective_from", "%s is before %s, the end of the last invoiced period; an amendment never rewrites invoiced periods", next.EffectiveFrom, invoicedThrough)
		}
		if !next.EffectiveFrom.After(latest.EffectiveStart()) {
			problems.Add("effective_from", "%s must be after version %d's effective date %s", next.EffectiveFrom, latest.Version, latest.EffectiveStart())
		}
	}
	if err := next.Validate(); err != nil {
		if ps, ok := err.(Problems); ok {
			problems = append(problems, ps...)
		} else {
			return fmt.Errorf("amend contract %s: %w", c.ID, err)
		}
	}
	if len(problems) > 0 {
		return problems
	}
	c.Versions = append(c.Versions, next)
	return nil
}
