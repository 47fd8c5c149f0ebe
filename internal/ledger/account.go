package ledger

import (
	"bytes"
	"fmt"
	"regexp"
	"sort"

	"go.yaml.in/yaml/v3"
)

// AccountType classifies an account for reporting and for its normal balance side.
type AccountType string

// The account types of the chart.
const (
	Asset         AccountType = "asset"
	Liability     AccountType = "liability"
	Equity        AccountType = "equity"
	Revenue       AccountType = "revenue"
	ContraRevenue AccountType = "contra_revenue"
	Expense       AccountType = "expense"
)

func (t AccountType) valid() bool {
	switch t {
	case Asset, Liability, Equity, Revenue, ContraRevenue, Expense:
		return true
	}
	return false
}

// Account is one account of the chart.
type Account struct {
	Code string      `yaml:"code" json:"code"`
	Name string      `yaml:"name" json:"name"`
	Type AccountType `yaml:"type" json:"type"`
}

// Role names the part an account plays in revhub's postings, independent of its code.
type Role string

// The roles every chart must fill.
const (
	RoleReceivable       Role = "accounts_receivable"
	RoleUnbilled         Role = "unbilled_receivable"
	RoleDeferredRevenue  Role = "deferred_revenue"
	RoleRevenue          Role = "revenue"            // fallback when a product has no revenue account
	RoleCommitTrueUp     Role = "commit_true_up"     // minimum-commit shortfall billed
	RoleCreditNoteContra Role = "credit_note_contra" // credit notes against recognized revenue
	RoleBreakage         Role = "breakage_revenue"   // expired prepaid credits
	RoleFees             Role = "payment_fees"
	RoleBank             Role = "bank"
)

var requiredRoles = []Role{RoleReceivable, RoleUnbilled, RoleDeferredRevenue, RoleRevenue, RoleCommitTrueUp,
	RoleCreditNoteContra, RoleBreakage, RoleFees, RoleBank}

// Chart is a configurable chart of accounts plus the accounts chosen for each role.
type Chart struct {
	Accounts         []Account         `yaml:"accounts"`
	Roles            map[Role]string   `yaml:"roles"`              // role -> account code
	RevenueByProduct map[string]string `yaml:"revenue_by_product"` // product -> revenue account code
	CashClearing     map[string]string `yaml:"cash_clearing"`      // payment provider -> clearing account code

	byCode map[string]Account
}

var codePattern = regexp.MustCompile(`^[0-9A-Za-z._-]{1,32}$`)

// DefaultChart returns revhub's default chart (1000 bank, 1100 AR, 1150 unbilled AR, 12xx cash
// clearing per provider, 2400 deferred revenue, 40xx revenue by product, 4900 credit-note contra,
// 4950 breakage, 6100 payment fees).
func DefaultChart() *Chart {
	c, err := ParseChart([]byte(defaultChartYAML))
	if err != nil {
		panic(fmt.Sprintf("ledger: default chart: %v", err))
	}
	return c
}

const defaultChartYAML = `
accounts:
  - {code: "1000", name: Bank, type: asset}
  - {code: "1100", name: Accounts receivable, type: asset}
  - {code: "1150", name: Unbilled receivable, type: asset}
  - {code: "1210", name: Cash clearing - Stripe, type: asset}
  - {code: "1220", name: Cash clearing - PayPal, type: asset}
  - {code: "1230", name: Cash clearing - bank transfer, type: asset}
  - {code: "2400", name: Deferred revenue, type: liability}
  - {code: "4000", name: Revenue - other, type: revenue}
  - {code: "4010", name: Revenue - platform subscriptions, type: revenue}
  - {code: "4020", name: Revenue - usage, type: revenue}
  - {code: "4030", name: Revenue - professional services, type: revenue}
  - {code: "4080", name: Revenue - minimum commit true-up, type: revenue}
  - {code: "4900", name: Credit notes, type: contra_revenue}
  - {code: "4950", name: Breakage revenue, type: revenue}
  - {code: "6100", name: Payment processing fees, type: expense}
roles:
  accounts_receivable: "1100"
  unbilled_receivable: "1150"
  deferred_revenue: "2400"
  revenue: "4000"
  commit_true_up: "4080"
  credit_note_contra: "4900"
  breakage_revenue: "4950"
  payment_fees: "6100"
  bank: "1000"
revenue_by_product:
  platform: "4010"
  usage: "4020"
  services: "4030"
cash_clearing:
  stripe: "1210"
  paypal: "1220"
  bank: "1230"
`

// ParseChart reads a chart from YAML (the shape of DefaultChart's source) and validates it.
func ParseChart(b []byte) (*Chart, error) {
	var c Chart
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("chart of accounts: %w", err)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Validate checks codes, types, duplicates and that every role and mapping names a chart account.
func (c *Chart) Validate() error {
	var ps problems
	c.byCode = make(map[string]Account, len(c.Accounts))
	if len(c.Accounts) == 0 {
		ps.Add("accounts", "at least one account is required")
	}
	for i, a := range c.Accounts {
		f := fmt.Sprintf("accounts[%d]", i)
		if !codePattern.MatchString(a.Code) {
			ps.Add(f+".code", "%q must be 1-32 letters, digits, '.', '_' or '-'", a.Code)
		}
		if a.Name == "" {
			ps.Add(f+".name", "is required")
		}
		if !a.Type.valid() {
			ps.Add(f+".type", "%q is not one of asset, liability, equity, revenue, contra_revenue, expense", a.Type)
		}
		if _, dup := c.byCode[a.Code]; dup {
			ps.Add(f+".code", "%q appears twice", a.Code)
		}
		c.byCode[a.Code] = a
	}
	for _, r := range requiredRoles {
		code, ok := c.Roles[r]
		if !ok {
			ps.Add("roles."+string(r), "is required")
			continue
		}
		if _, ok := c.byCode[code]; !ok {
			ps.Add("roles."+string(r), "account %q is not in the chart", code)
		}
	}
	for _, r := range sortedKeys(c.Roles) {
		if !isRequiredRole(Role(r)) {
			ps.Add("roles."+r, "unknown role")
		}
	}
	for _, p := range sortedKeys(c.RevenueByProduct) {
		if a, ok := c.byCode[c.RevenueByProduct[p]]; !ok {
			ps.Add("revenue_by_product."+p, "account %q is not in the chart", c.RevenueByProduct[p])
		} else if a.Type != Revenue {
			ps.Add("revenue_by_product."+p, "account %q is a %s account, not revenue", a.Code, a.Type)
		}
	}
	if len(c.CashClearing) == 0 {
		ps.Add("cash_clearing", "at least one provider clearing account is required")
	}
	for _, p := range sortedKeys(c.CashClearing) {
		if a, ok := c.byCode[c.CashClearing[p]]; !ok {
			ps.Add("cash_clearing."+p, "account %q is not in the chart", c.CashClearing[p])
		} else if a.Type != Asset {
			ps.Add("cash_clearing."+p, "account %q is a %s account, not an asset", a.Code, a.Type)
		}
	}
	return ps.Err("", "chart of accounts")
}

func isRequiredRole(r Role) bool {
	for _, x := range requiredRoles {
		if x == r {
			return true
		}
	}
	return false
}

func sortedKeys[K ~string, V any](m map[K]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, string(k))
	}
	sort.Strings(out)
	return out
}

// Account returns the account with the given code.
func (c *Chart) Account(code string) (Account, bool) {
	a, ok := c.byCode[code]
	return a, ok
}

// RoleAccount returns the account code that plays role r.
func (c *Chart) RoleAccount(r Role) string { return c.Roles[r] }

// RevenueAccount returns the revenue account of product, or the default revenue account.
func (c *Chart) RevenueAccount(product string) string {
	if code, ok := c.RevenueByProduct[product]; ok {
		return code
	}
	return c.Roles[RoleRevenue]
}

// ClearingAccount returns the cash clearing account of a payment provider.
func (c *Chart) ClearingAccount(provider string) (string, error) {
	code, ok := c.CashClearing[provider]
	if !ok {
		return "", fmt.Errorf("ledger: no cash clearing account for provider %q (known: %v)", provider, sortedKeys(c.CashClearing))
	}
	return code, nil
}
