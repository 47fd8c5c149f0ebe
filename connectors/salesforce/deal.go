package salesforce

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// Deal is a closed-won Opportunity with its Account and line items (each with its Product2), as read from Salesforce.
type Deal struct {
	Opportunity Opportunity
	// Account is nil when the Opportunity has no Account.
	Account   *Account
	LineItems []LineItem
	// Problems lists fields whose values could not be decoded; the mapping rejects a deal that has any.
	Problems []FieldProblem
}

// FieldProblem is a Salesforce field value the connector could not decode.
type FieldProblem struct {
	// Field is the path of the field, e.g. "OpportunityLineItem[00k...].Quantity".
	Field  string
	Reason string
}

// Opportunity holds the Opportunity fields revhub reads.
type Opportunity struct {
	ID               string
	Name             string
	AccountID        string
	StageName        string
	IsWon            bool
	IsClosed         bool
	CloseDate        time.Time
	Amount           *decimal.Decimal
	CurrencyIsoCode  string
	Pricebook2ID     string
	SystemModstamp   time.Time
	LastModifiedDate time.Time
	BillingEntity    string
	PaymentProvider  string
	PaymentMethod    string
	ContractStart    time.Time
	// ContractTermMonths is nil when the field is empty.
	ContractTermMonths *decimal.Decimal
	BillingFrequency   string
	RevhubContractID   string
	RevhubStatus       string
	RevhubBilledToDate *decimal.Decimal
}

// Account holds the Account fields revhub reads.
type Account struct {
	ID                string
	Name              string
	BillingStreet     string
	BillingCity       string
	BillingState      string
	BillingPostalCode string
	BillingCountry    string
	CurrencyIsoCode   string
}

// LineItem holds the OpportunityLineItem fields revhub reads, with its product.
type LineItem struct {
	ID               string
	OpportunityID    string
	PricebookEntryID string
	Product2ID       string
	Quantity         *decimal.Decimal
	UnitPrice        *decimal.Decimal
	ListPrice        *decimal.Decimal
	TotalPrice       *decimal.Decimal
	// Discount is a percentage (10 means 10%); nil when empty.
	Discount    *decimal.Decimal
	ServiceDate time.Time
	EndDate     time.Time
	Description string
	Tiers       string
	Rate        *decimal.Decimal
	PackageSize *decimal.Decimal
	// Percent is the rate of a percentage-of-volume line, in percent.
	Percent *decimal.Decimal
	// Product is nil when the line's Product2 was not returned.
	Product *Product
}

// Product holds the Product2 fields revhub reads.
type Product struct {
	ID          string
	Name        string
	ProductCode string
	Family      string
	IsActive    bool
	PriceModel  string
	Meter       string
	Unit        string
	Tiers       string
	Rate        *decimal.Decimal
}

// Salesforce JSON date and datetime layouts.
const (
	dateLayout     = "2006-01-02"
	datetimeLayout = "2006-01-02T15:04:05.000-0700"
)

// record is one decoded query row; it collects problems instead of failing on the first bad field.
type record struct {
	path     string
	fields   map[string]json.RawMessage
	problems *[]FieldProblem
}

func newRecord(path string, raw json.RawMessage, problems *[]FieldProblem) (record, error) {
	r := record{path: path, problems: problems}
	if err := json.Unmarshal(raw, &r.fields); err != nil {
		return r, fmt.Errorf("%s: not a JSON object: %w", path, err)
	}
	return r, nil
}

func (r record) problem(field, reason string) {
	*r.problems = append(*r.problems, FieldProblem{Field: r.path + "." + field, Reason: reason})
}

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

func (r record) str(field string) string {
	raw := r.fields[field]
	if isNull(raw) {
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		r.problem(field, "want a string, got "+string(raw))
	}
	return s
}

func (r record) boolean(field string) bool {
	raw := r.fields[field]
	if isNull(raw) {
		return false
	}
	var b bool
	if err := json.Unmarshal(raw, &b); err != nil {
		r.problem(field, "want true or false, got "+string(raw))
	}
	return b
}

func (r record) number(field string) *decimal.Decimal {
	raw := r.fields[field]
	if isNull(raw) {
		return nil
	}
	if raw[0] == '"' {
		r.problem(field, "want a JSON number, got the string "+string(raw))
		return nil
	}
	d, err := decimal.NewFromString(string(bytes.TrimSpace(raw)))
	if err != nil {
		r.problem(field, "want a number, got "+string(raw))
		return nil
	}
	return &d
}

func (r record) date(field string) time.Time {
	s := r.str(field)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		r.problem(field, fmt.Sprintf("want a date YYYY-MM-DD, got %q", s))
	}
	return t
}

func (r record) datetime(field string) time.Time {
	s := r.str(field)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(datetimeLayout, s)
	if err != nil {
		r.problem(field, fmt.Sprintf("want a datetime like 2024-05-01T12:00:00.000+0000, got %q", s))
	}
	return t.UTC()
}

// child returns the parent-relationship object under field, or ok=false when it is null or absent.
func (r record) child(field, path string) (record, bool) {
	raw := r.fields[field]
	if isNull(raw) {
		return record{}, false
	}
	c, err := newRecord(path, raw, r.problems)
	if err != nil {
		r.problem(field, "want an object or null")
		return record{}, false
	}
	return c, true
}

func decodeOpportunity(r record) Opportunity {
	return Opportunity{
		ID:                 r.str("Id"),
		Name:               r.str("Name"),
		AccountID:          r.str("AccountId"),
		StageName:          r.str("StageName"),
		IsWon:              r.boolean("IsWon"),
		IsClosed:           r.boolean("IsClosed"),
		CloseDate:          r.date("CloseDate"),
		Amount:             r.number("Amount"),
		CurrencyIsoCode:    r.str("CurrencyIsoCode"),
		Pricebook2ID:       r.str("Pricebook2Id"),
		SystemModstamp:     r.datetime("SystemModstamp"),
		LastModifiedDate:   r.datetime("LastModifiedDate"),
		BillingEntity:      r.str(FieldBillingEntity),
		PaymentProvider:    r.str(FieldPaymentProvider),
		PaymentMethod:      r.str(FieldPaymentMethod),
		ContractStart:      r.date(FieldContractStart),
		ContractTermMonths: r.number(FieldContractTerm),
		BillingFrequency:   r.str(FieldBillingFrequency),
		RevhubContractID:   r.str(FieldRevhubContractID),
		RevhubStatus:       r.str(FieldRevhubStatus),
		RevhubBilledToDate: r.number(FieldRevhubBilledToDate),
	}
}

func decodeAccount(r record) *Account {
	return &Account{
		ID:                r.str("Id"),
		Name:              r.str("Name"),
		BillingStreet:     r.str("BillingStreet"),
		BillingCity:       r.str("BillingCity"),
		BillingState:      r.str("BillingState"),
		BillingPostalCode: r.str("BillingPostalCode"),
		BillingCountry:    r.str("BillingCountry"),
		CurrencyIsoCode:   r.str("CurrencyIsoCode"),
	}
}

func decodeLineItem(r record) LineItem {
	li := LineItem{
		ID:               r.str("Id"),
		OpportunityID:    r.str("OpportunityId"),
		PricebookEntryID: r.str("PricebookEntryId"),
		Product2ID:       r.str("Product2Id"),
		Quantity:         r.number("Quantity"),
		UnitPrice:        r.number("UnitPrice"),
		ListPrice:        r.number("ListPrice"),
		TotalPrice:       r.number("TotalPrice"),
		Discount:         r.number("Discount"),
		ServiceDate:      r.date("ServiceDate"),
		EndDate:          r.date(FieldEndDate),
		Description:      r.str("Description"),
		Tiers:            r.str(FieldTiers),
		Rate:             r.number(FieldRate),
		PackageSize:      r.number(FieldPackageSize),
		Percent:          r.number(FieldPercent),
	}
	if p, ok := r.child("Product2", r.path+".Product2"); ok {
		li.Product = &Product{
			ID:          p.str("Id"),
			Name:        p.str("Name"),
			ProductCode: p.str("ProductCode"),
			Family:      p.str("Family"),
			IsActive:    p.boolean("IsActive"),
			PriceModel:  p.str(FieldPriceModel),
			Meter:       p.str(FieldMeter),
			Unit:        p.str(FieldUnit),
			Tiers:       p.str(FieldTiers),
			Rate:        p.number(FieldRate),
		}
	}
	return li
}
