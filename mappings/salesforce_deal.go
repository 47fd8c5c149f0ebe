package mappings

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/connectors/salesforce"
	"github.com/revhub/revhub/internal/contract"
	"github.com/revhub/revhub/internal/money"
)

// UnmappableDealType is the searchable type name of the non-retryable workflow error for a rejected deal.
const UnmappableDealType = "UnmappableDeal"

// Price model codes of Product2.Price_Model__c.
const (
	SFPlatformFee    = "platform_fee"
	SFSeats          = "seats"
	SFPerUnit        = "per_unit"
	SFGraduated      = "graduated"
	SFVolume         = "volume"
	SFPackage        = "package"
	SFPercentage     = "percentage"
	SFMinimumCommit  = "minimum_commit"
	SFPrepaidCredits = "prepaid_credits"
)

var sfPriceModels = []string{SFPlatformFee, SFSeats, SFPerUnit, SFGraduated, SFVolume, SFPackage, SFPercentage, SFMinimumCommit, SFPrepaidCredits}

// DealProblem is one reason a deal cannot become a contract: the Salesforce field path and why.
type DealProblem struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// UnmappableDealError rejects a deal as a whole, listing every problem found; Field and Reason repeat the first.
type UnmappableDealError struct {
	OpportunityID string
	Field         string
	Reason        string
	Problems      []DealProblem
}

// Error names the Opportunity and lists every problem, one per line.
func (e *UnmappableDealError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "unmappable deal: Opportunity %s: %d problem(s)", e.OpportunityID, len(e.Problems))
	for _, p := range e.Problems {
		fmt.Fprintf(&b, "\n  %s: %s", p.Field, p.Reason)
	}
	return b.String()
}

// SalesforceContractID is the revhub contract id of an Opportunity's contract; the same deal always maps to it.
func SalesforceContractID(opportunityID string) string { return "ctr_sf_" + opportunityID }

// sfDealMapper collects problems while it maps one deal.
type sfDealMapper struct {
	deal     salesforce.Deal
	problems []DealProblem
	cur      money.Currency
	cadence  contract.Cadence
	start    contract.Date
	end      contract.Date
}

func (m *sfDealMapper) add(field, format string, args ...any) {
	m.problems = append(m.problems, DealProblem{Field: field, Reason: fmt.Sprintf(format, args...)})
}

// sfStep is one line item resolved to its service range [from, to).
type sfStep struct {
	line     salesforce.LineItem
	path     string
	from, to contract.Date
	explicit bool // to came from End_Date__c
	periods  int64
}

// SalesforceDeal maps a closed-won deal to version 1 of its revhub contract, in draft. It is all or nothing:
// any problem (including the connector's decoding problems and contract validation) rejects the whole deal
// with an *UnmappableDealError listing them all. docs/salesforce.md documents every field it reads.
func SalesforceDeal(d salesforce.Deal) (contract.Version, error) {
	m := &sfDealMapper{deal: d}
	for _, p := range d.Problems {
		m.add(p.Field, "%s", p.Reason)
	}
	v := m.header()
	groups, order := m.steps()
	meters := map[string]contract.Meter{}
	for _, pid := range order {
		m.product(&v, groups[pid], meters)
	}
	ids := make([]string, 0, len(meters))
	for id := range meters {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		v.Meters = append(v.Meters, meters[id])
	}
	if len(m.problems) == 0 {
		if err := v.Validate(); err != nil {
			ps, ok := err.(contract.Problems)
			if !ok {
				return contract.Version{}, fmt.Errorf("map Opportunity %s: validate contract: %w", d.Opportunity.ID, err)
			}
			for _, p := range ps {
				m.add("contract."+p.Path, "%s", p.Reason)
			}
		}
	}
	if len(m.problems) > 0 {
		return contract.Version{}, &UnmappableDealError{
			OpportunityID: d.Opportunity.ID,
			Field:         m.problems[0].Field,
			Reason:        m.problems[0].Reason,
			Problems:      m.problems,
		}
	}
	return v, nil
}

// header maps the Opportunity and Account fields.
func (m *sfDealMapper) header() contract.Version {
	o := m.deal.Opportunity
	v := contract.Version{
		ContractID: SalesforceContractID(o.ID),
		Version:    1,
		Status:     contract.StatusDraft,
		Billing:    contract.Billing{Timing: contract.InAdvance},
	}
	if !o.IsWon {
		m.add("Opportunity.IsWon", "the deal is not won (stage %q)", o.StageName)
	}
	if a := m.deal.Account; a == nil || a.ID == "" {
		m.add("Opportunity.AccountId", "the deal has no Account to bill")
	} else {
		v.Customer = contract.Customer{ExternalID: a.ID, Name: a.Name}
	}
	if cur, err := money.ParseCurrency(o.CurrencyIsoCode); err != nil {
		m.add("Opportunity.CurrencyIsoCode", "%q is not a supported ISO 4217 currency", o.CurrencyIsoCode)
	} else {
		m.cur, v.Currency = cur, cur
	}
	if o.BillingEntity == "" {
		m.add("Opportunity."+salesforce.FieldBillingEntity, "required: the revhub billing entity that invoices the deal")
	}
	v.BillingEntity = o.BillingEntity
	switch p := contract.PaymentProvider(strings.ToLower(o.PaymentProvider)); p {
	case contract.ProviderStripe, contract.ProviderPayPal, contract.ProviderBank:
		v.PaymentProvider = p
		v.PaymentMethod = strings.TrimSpace(o.PaymentMethod)
	case "":
		m.add("Opportunity."+salesforce.FieldPaymentProvider, "required (stripe, paypal or bank)")
	default:
		m.add("Opportunity."+salesforce.FieldPaymentProvider, "%q is not a payment provider (want stripe, paypal or bank)", o.PaymentProvider)
	}
	switch strings.ToLower(o.BillingFrequency) {
	case "monthly":
		m.cadence = contract.Monthly
	case "quarterly":
		m.cadence = contract.Quarterly
	case "annual", "annually", "yearly":
		m.cadence = contract.Annual
	case "":
		m.add("Opportunity."+salesforce.FieldBillingFrequency, "required (Monthly, Quarterly or Annual)")
	default:
		m.add("Opportunity."+salesforce.FieldBillingFrequency, "%q is not a billing frequency (want Monthly, Quarterly or Annual)", o.BillingFrequency)
	}
	v.Billing.Cadence = m.cadence

	if !o.ContractStart.IsZero() {
		m.start = contract.DateOf(o.ContractStart)
	} else {
		for _, li := range m.deal.LineItems {
			if !li.ServiceDate.IsZero() && (m.start.IsZero() || contract.DateOf(li.ServiceDate).Before(m.start)) {
				m.start = contract.DateOf(li.ServiceDate)
			}
		}
		if m.start.IsZero() {
			m.add("Opportunity."+salesforce.FieldContractStart, "required (or a ServiceDate on a line item)")
		}
	}
	term := o.ContractTermMonths
	switch {
	case term == nil:
		m.add("Opportunity."+salesforce.FieldContractTerm, "required: the term in months")
	case !term.IsInteger() || !term.IsPositive() || term.GreaterThan(decimal.NewFromInt(1200)):
		m.add("Opportunity."+salesforce.FieldContractTerm, "%s is not a whole, positive number of months", term)
	case m.cadence != "" && term.IntPart()%int64(m.cadence.Months()) != 0:
		m.add("Opportunity."+salesforce.FieldContractTerm, "%s months is not a whole number of %s billing periods", term, m.cadence)
	case !m.start.IsZero():
		m.end = m.start.AddMonths(int(term.IntPart()))
	}
	v.Start, v.End = m.start, m.end

	if len(m.deal.LineItems) == 0 {
		m.add("OpportunityLineItem", "the deal has no line items, so there is nothing to bill")
	}
	if o.Amount != nil {
		sum := decimal.Zero
		for _, li := range m.deal.LineItems {
			if li.TotalPrice != nil {
				sum = sum.Add(*li.TotalPrice)
			}
		}
		if !sum.Equal(*o.Amount) {
			m.add("Opportunity.Amount", "%s differs from the sum of the line items' TotalPrice %s", o.Amount, sum)
		}
	}
	return v
}

// steps resolves every line item's service range and groups the lines by product, in first-seen order.
func (m *sfDealMapper) steps() (map[string][]*sfStep, []string) {
	groups := map[string][]*sfStep{}
	var order []string
	codes := map[string]string{}
	for _, li := range m.deal.LineItems {
		path := "OpportunityLineItem[" + li.ID + "]"
		if li.Product == nil || li.Product.ID == "" {
			m.add(path+".Product2Id", "the line's product was not returned")
			continue
		}
		if other, dup := codes[li.Product.ProductCode]; dup && other != li.Product.ID {
			m.add("Product2["+li.Product.ID+"].ProductCode", "%q is also the code of product %s; product codes name contract components and must be unique in a deal", li.Product.ProductCode, other)
		}
		codes[li.Product.ProductCode] = li.Product.ID
		s := &sfStep{line: li, path: path}
		if li.ServiceDate.IsZero() {
			s.from = m.start
		} else {
			s.from = contract.DateOf(li.ServiceDate)
		}
		if !li.EndDate.IsZero() {
			s.to, s.explicit = contract.DateOf(li.EndDate).AddDays(1), true
		}
		if _, seen := groups[li.Product.ID]; !seen {
			order = append(order, li.Product.ID)
		}
		groups[li.Product.ID] = append(groups[li.Product.ID], s)
	}
	for _, pid := range order {
		g := groups[pid]
		sort.SliceStable(g, func(i, j int) bool { return g[i].from.Before(g[j].from) })
		for i, s := range g {
			if !s.explicit {
				if i+1 < len(g) {
					s.to = g[i+1].from
				} else {
					s.to = m.end
				}
			}
			m.checkRange(s)
			if i > 0 && g[i-1].to.After(s.from) && !g[i-1].to.IsZero() {
				m.add(s.path+".ServiceDate", "%s overlaps the previous line of product %s, which runs until %s", s.from, s.line.Product.ProductCode, g[i-1].to.AddDays(-1))
			}
		}
	}
	return groups, order
}

// checkRange checks a sfStep lies inside the contract on billing-period boundaries and counts its periods.
func (m *sfDealMapper) checkRange(s *sfStep) {
	if m.start.IsZero() || m.end.IsZero() || m.cadence == "" {
		return
	}
	switch {
	case s.from.Before(m.start):
		m.add(s.path+".ServiceDate", "%s is before the contract start %s", s.from, m.start)
		return
	case s.to.After(m.end):
		m.add(s.path+"."+salesforce.FieldEndDate, "service runs until %s, after the contract's last day %s", s.to.AddDays(-1), m.end.AddDays(-1))
		return
	case !s.to.After(s.from):
		m.add(s.path+"."+salesforce.FieldEndDate, "%s is before the service date %s", s.to.AddDays(-1), s.from)
		return
	}
	months := m.cadence.Months()
	k, ok := sfPeriodsBetween(m.start, s.from, months)
	if !ok {
		m.add(s.path+".ServiceDate", "%s is not on a %s billing-period boundary of a contract starting %s", s.from, m.cadence, m.start)
		return
	}
	n, ok := sfPeriodsBetween(m.start, s.to, months)
	if !ok {
		m.add(s.path+"."+salesforce.FieldEndDate, "the service ends on %s, not at the end of a %s billing period", s.to.AddDays(-1), m.cadence)
		return
	}
	s.periods = int64(n - k)
}

// sfPeriodsBetween returns how many whole periods of months lie between start and d, if d is a period boundary.
func sfPeriodsBetween(start, d contract.Date, months int) (int, bool) {
	for k := 0; ; k++ {
		b := start.AddMonths(k * months)
		if b.Equal(d) {
			return k, true
		}
		if b.After(d) {
			return 0, false
		}
	}
}

var sfComponentIDRe = regexp.MustCompile(`[^a-z0-9]+`)

// sfComponentID derives a stable component id from the product code.
func sfComponentID(p *salesforce.Product) string {
	id := strings.Trim(sfComponentIDRe.ReplaceAllString(strings.ToLower(p.ProductCode), "_"), "_")
	if id == "" {
		id = strings.ToLower(p.ID)
	}
	return id
}

// product maps the lines of one product to a component, the commit or a credit grant.
func (m *sfDealMapper) product(v *contract.Version, steps []*sfStep, meters map[string]contract.Meter) {
	if len(steps) == 0 {
		return
	}
	p := steps[0].line.Product
	ppath := "Product2[" + p.ID + "]"
	model := strings.ToLower(strings.TrimSpace(p.PriceModel))
	found := false
	for _, x := range sfPriceModels {
		found = found || x == model
	}
	if !found {
		if model == "" {
			m.add(ppath+"."+salesforce.FieldPriceModel, "required (one of %s)", strings.Join(sfPriceModels, ", "))
		} else {
			m.add(ppath+"."+salesforce.FieldPriceModel, "unknown price model %q (want one of %s)", p.PriceModel, strings.Join(sfPriceModels, ", "))
		}
		return
	}
	if p.ProductCode == "" {
		m.add(ppath+".ProductCode", "required: it names the contract component")
	}
	before := len(m.problems)
	prices := make([]contract.Price, len(steps))
	for i, s := range steps {
		prices[i] = m.price(model, s, p)
	}
	discount := m.discount(model, steps)
	if len(m.problems) > before {
		return
	}
	c := contract.Component{ID: sfComponentID(p), Product: p.ProductCode, Name: p.Name}
	switch model {
	case SFMinimumCommit:
		if d := steps[0].line.Discount; d != nil && !d.IsZero() {
			m.add(steps[0].path+".Discount", "a minimum commit cannot be discounted; lower its price instead")
			return
		}
		if m.wholeTerm(steps, "a minimum commit") {
			if v.Commit != nil {
				m.add(ppath+"."+salesforce.FieldPriceModel, "a deal may have one minimum commit; %s is a second one", p.ProductCode)
				return
			}
			v.Commit = &contract.Commit{Amount: prices[0].Amount, Product: p.ProductCode}
		}
		return
	case SFPrepaidCredits:
		if !m.wholeTerm(steps, "prepaid credits") {
			return
		}
		c.Model, c.Price, c.Discount = contract.Flat, prices[0], discount
		v.Components = append(v.Components, c)
		v.Credits = append(v.Credits, contract.CreditGrant{ID: c.ID, Amount: prices[0].Amount, Every: contract.GrantEveryPeriod})
		return
	case SFPlatformFee:
		c.Model = contract.Flat
	case SFSeats:
		c.Model = contract.Seats
	case SFPerUnit:
		c.Model = contract.PerUnit
	case SFGraduated:
		c.Model = contract.Graduated
	case SFVolume:
		c.Model = contract.Volume
	case SFPackage:
		c.Model = contract.Package
	case SFPercentage:
		c.Model = contract.Percentage
	}
	if c.Model.Usage() {
		if p.Meter == "" {
			m.add(ppath+"."+salesforce.FieldMeter, "required for a %s product: the revhub meter it is rated on", model)
			return
		}
		c.Meter = p.Meter
		if prev, ok := meters[p.Meter]; ok && prev.Unit != p.Unit {
			m.add(ppath+"."+salesforce.FieldUnit, "meter %s is counted in %q by another product, not %q", p.Meter, prev.Unit, p.Unit)
		}
		meters[p.Meter] = contract.Meter{ID: p.Meter, Unit: p.Unit}
	}
	c.Discount = discount
	c.Price, c.Ramps = m.ramps(c.Model, steps, prices)
	v.Components = append(v.Components, c)
}

// wholeTerm requires a single line covering the whole contract, for terms revhub holds once per version.
func (m *sfDealMapper) wholeTerm(steps []*sfStep, what string) bool {
	if len(steps) != 1 || !steps[0].from.Equal(m.start) || !steps[0].to.Equal(m.end) {
		m.add(steps[0].path+".ServiceDate", "%s must be one line covering the whole contract %s to %s: revhub holds it once per contract version, so it cannot ramp or cover part of the term", what, m.start, m.end.AddDays(-1))
		return false
	}
	return true
}

// ramps turns a product's steps into a base price and ramps: no ramp when one line covers the contract,
// the first line as base when the lines cover it end to end, otherwise a zero base and one ramp per line.
func (m *sfDealMapper) ramps(model contract.PriceModel, steps []*sfStep, prices []contract.Price) (contract.Price, []contract.Ramp) {
	covers := steps[0].from.Equal(m.start) && steps[len(steps)-1].to.Equal(m.end)
	for i := 1; i < len(steps); i++ {
		covers = covers && steps[i-1].to.Equal(steps[i].from)
	}
	rampOf := func(i int) contract.Ramp {
		r := contract.Ramp{From: steps[i].from, Price: prices[i]}
		if !steps[i].to.Equal(m.end) {
			r.To = steps[i].to
		}
		return r
	}
	if covers {
		var rs []contract.Ramp
		for i := 1; i < len(steps); i++ {
			rs = append(rs, rampOf(i))
		}
		return prices[0], rs
	}
	rs := make([]contract.Ramp, len(steps))
	for i := range steps {
		rs[i] = rampOf(i)
	}
	return sfZeroPrice(model), rs
}

// sfZeroPrice charges nothing, for the dates a product's lines do not cover.
func sfZeroPrice(model contract.PriceModel) contract.Price {
	switch model {
	case contract.Graduated, contract.Volume:
		return contract.Price{Tiers: []contract.Tier{{From: decimal.Zero}}}
	case contract.Package:
		return contract.Price{PackageSize: decimal.NewFromInt(1)}
	}
	return contract.Price{}
}

// discount maps the lines' Discount percent to a component discount; a product's lines must agree on it.
func (m *sfDealMapper) discount(model string, steps []*sfStep) *contract.Discount {
	pct := func(s *sfStep) decimal.Decimal {
		if s.line.Discount == nil {
			return decimal.Zero
		}
		return *s.line.Discount
	}
	first := pct(steps[0])
	for _, s := range steps {
		d := pct(s)
		if d.IsNegative() || d.GreaterThan(decimal.NewFromInt(100)) {
			m.add(s.path+".Discount", "%s%% is not between 0 and 100", d)
			return nil
		}
		if !d.Equal(first) {
			m.add(s.path+".Discount", "%s%% differs from %s%% on the product's first line; use one discount per product or net unit prices", d, first)
			return nil
		}
	}
	if first.IsZero() || model == SFMinimumCommit {
		return nil
	}
	return &contract.Discount{Kind: contract.DiscountPercent, Percent: first}
}

// price maps one line to its price for the model.
func (m *sfDealMapper) price(model string, s *sfStep, p *salesforce.Product) contract.Price {
	li := s.line
	qty := decimal.Zero
	if li.Quantity == nil || !li.Quantity.IsPositive() {
		m.add(s.path+".Quantity", "must be a positive number, got %s", sfOrEmpty(li.Quantity))
	} else {
		qty = *li.Quantity
	}
	unit := decimal.Zero
	if li.UnitPrice == nil || li.UnitPrice.IsNegative() {
		m.add(s.path+".UnitPrice", "must be zero or more, got %s", sfOrEmpty(li.UnitPrice))
	} else {
		unit = *li.UnitPrice
	}
	switch model {
	case SFPlatformFee, SFMinimumCommit, SFPrepaidCredits:
		if s.periods == 0 {
			return contract.Price{}
		}
		total := qty.Mul(unit)
		per, ok := sfExactDiv(total, s.periods)
		if !ok || (m.cur != "" && !money.IsRounded(per, m.cur)) {
			m.add(s.path+".UnitPrice", "%s over %d %s periods is not a whole %s amount per period (%s); change the price, the term or %s",
				total, s.periods, m.cadence, m.cur, per.StringFixed(4), salesforce.FieldBillingFrequency)
			return contract.Price{}
		}
		return contract.Price{Amount: per}
	case SFSeats:
		if !qty.IsInteger() {
			m.add(s.path+".Quantity", "%s is not a whole number of seats", qty)
		}
		if s.periods == 0 {
			return contract.Price{}
		}
		per, ok := sfExactDiv(unit, s.periods)
		if !ok || per.Exponent() < -contract.MaxPriceDecimals {
			m.add(s.path+".UnitPrice", "%s per seat over %d %s periods is not an exact price per period", unit, s.periods, m.cadence)
			return contract.Price{}
		}
		return contract.Price{UnitPrice: per, Seats: qty.IntPart()}
	}
	// Usage: the committed value of the line is nothing; rates live in the custom fields.
	if !unit.IsZero() {
		m.add(s.path+".UnitPrice", "must be 0 for a %s usage line (rates go in %s, %s or %s) so the deal amount is its committed value", model, salesforce.FieldRate, salesforce.FieldTiers, salesforce.FieldPercent)
	}
	rate := li.Rate
	if rate == nil {
		rate = p.Rate
	}
	switch model {
	case SFPerUnit:
		if rate == nil || rate.IsNegative() {
			m.add(s.path+"."+salesforce.FieldRate, "required: the price per unit (on the line or its product), got %s", sfOrEmpty(rate))
			return contract.Price{}
		}
		return contract.Price{UnitPrice: *rate}
	case SFGraduated, SFVolume:
		text := li.Tiers
		if text == "" {
			text = p.Tiers
		}
		tiers, err := ParseSalesforceTiers(text)
		if err != nil {
			m.add(s.path+"."+salesforce.FieldTiers, "%v", err)
			return contract.Price{}
		}
		return contract.Price{Tiers: tiers}
	case SFPackage:
		if li.PackageSize == nil || !li.PackageSize.IsPositive() {
			m.add(s.path+"."+salesforce.FieldPackageSize, "required: a positive number of units per package, got %s", sfOrEmpty(li.PackageSize))
		}
		if rate == nil || rate.IsNegative() {
			m.add(s.path+"."+salesforce.FieldRate, "required: the price per package, got %s", sfOrEmpty(rate))
		}
		if li.PackageSize == nil || rate == nil {
			return contract.Price{}
		}
		return contract.Price{PackageSize: *li.PackageSize, PackagePrice: *rate}
	case SFPercentage:
		if li.Percent == nil || li.Percent.IsNegative() || li.Percent.GreaterThan(decimal.NewFromInt(100)) {
			m.add(s.path+"."+salesforce.FieldPercent, "required: a percentage between 0 and 100, got %s", sfOrEmpty(li.Percent))
			return contract.Price{}
		}
		pr := contract.Price{Percent: *li.Percent}
		if rate != nil {
			pr.FixedFee = *rate
		}
		return pr
	}
	return contract.Price{}
}

// sfExactDiv divides a by n and reports whether the quotient is exact; the quotient carries no trailing zeros.
func sfExactDiv(a decimal.Decimal, n int64) (decimal.Decimal, bool) {
	d := decimal.NewFromInt(n)
	q := a.DivRound(d, 16)
	if !q.Mul(d).Equal(a) {
		return q, false
	}
	return decimal.RequireFromString(q.String()), true
}

func sfOrEmpty(d *decimal.Decimal) string {
	if d == nil {
		return "nothing"
	}
	return d.String()
}
