package salesforce

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// lineItemChunk bounds the ids in one `OpportunityId IN (...)` query, far below SOQL's length limit.
const lineItemChunk = 200

// queryPage is one page of a SOQL query result; records stay raw so amounts decode exactly.
type queryPage struct {
	TotalSize      int               `json:"totalSize"`
	Done           bool              `json:"done"`
	NextRecordsURL string            `json:"nextRecordsUrl"`
	Records        []json.RawMessage `json:"records"`
}

// Query runs a SOQL query and returns every record of every page, following nextRecordsUrl.
// A session that expires between pages is renewed and the query continues from the same page.
func (c *RESTClient) Query(ctx context.Context, soql string) ([]json.RawMessage, error) {
	var header http.Header
	if c.cfg.BatchSize > 0 {
		header = http.Header{"Sforce-Query-Options": {"batchSize=" + strconv.Itoa(c.cfg.BatchSize)}}
	}
	var records []json.RawMessage
	next := soql
	for page := 1; ; page++ {
		var p queryPage
		err := c.withSession(ctx, func(s *session) error {
			sf, ct := c.call(ctx, s, header)
			_, qerr := sf.Query(next)
			c.noteUsage(ctx, ct.last)
			if ct.last.err != nil {
				return ct.last.err
			}
			if qerr != nil {
				return qerr
			}
			if err := json.Unmarshal(ct.last.body, &p); err != nil {
				return fmt.Errorf("decode query page: %w", err)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("salesforce query page %d: %w", page, err)
		}
		records = append(records, p.Records...)
		if p.Done {
			return records, nil
		}
		if !strings.HasPrefix(p.NextRecordsURL, "/services/data/") {
			return nil, fmt.Errorf("salesforce query page %d: done is false but nextRecordsUrl %q is not a /services/data path", page, p.NextRecordsURL)
		}
		next = p.NextRecordsURL
	}
}

var (
	opportunityFields = []string{
		"Id", "Name", "AccountId", "StageName", "IsWon", "IsClosed", "CloseDate", "Amount", "Pricebook2Id",
		"SystemModstamp", "LastModifiedDate",
		FieldBillingEntity, FieldPaymentProvider, FieldPaymentMethod, FieldContractStart, FieldContractTerm, FieldBillingFrequency,
		FieldRevhubContractID, FieldRevhubStatus, FieldRevhubBilledToDate,
		"Account.Id", "Account.Name", "Account.BillingStreet", "Account.BillingCity", "Account.BillingState",
		"Account.BillingPostalCode", "Account.BillingCountry",
	}
	lineItemFields = []string{
		"Id", "OpportunityId", "PricebookEntryId", "Product2Id", "Quantity", "UnitPrice", "ListPrice", "TotalPrice",
		"Discount", "ServiceDate", "Description", FieldEndDate, FieldTiers, FieldRate, FieldPackageSize, FieldPercent,
		"Product2.Id", "Product2.Name", "Product2.ProductCode", "Product2.Family", "Product2.IsActive",
		"Product2." + FieldPriceModel, "Product2." + FieldMeter, "Product2." + FieldUnit,
		"Product2." + FieldTiers, "Product2." + FieldRate,
	}
)

// soqlDatetime formats t as an unquoted SOQL datetime literal, truncated to the second:
// Salesforce ignores milliseconds when it compares datetimes.
func soqlDatetime(t time.Time) string {
	return t.UTC().Truncate(time.Second).Format("2006-01-02T15:04:05Z")
}

// closedWonQuery is the SOQL ClosedWonSince runs for the Opportunities.
func (c *RESTClient) closedWonQuery(since time.Time) string {
	fields := opportunityFields
	if c.cfg.MultiCurrency {
		fields = append(append([]string{}, fields...), "CurrencyIsoCode", "Account.CurrencyIsoCode")
	}
	return "SELECT " + strings.Join(fields, ", ") + " FROM Opportunity WHERE IsWon = true AND SystemModstamp >= " +
		soqlDatetime(since) + " ORDER BY SystemModstamp ASC, Id ASC"
}

// lineItemQuery is the SOQL for the line items (with products) of the given Opportunities.
func (c *RESTClient) lineItemQuery(oppIDs []string) string {
	fields := lineItemFields
	if c.cfg.MultiCurrency {
		fields = append(append([]string{}, fields...), "CurrencyIsoCode")
	}
	quoted := make([]string, len(oppIDs))
	for i, id := range oppIDs {
		quoted[i] = "'" + id + "'"
	}
	return "SELECT " + strings.Join(fields, ", ") + " FROM OpportunityLineItem WHERE OpportunityId IN (" +
		strings.Join(quoted, ", ") + ") ORDER BY OpportunityId ASC, Id ASC"
}

// ClosedWonSince returns won Opportunities modified after since with their Account, line items and products.
// Field values that cannot be decoded are listed in Deal.Problems rather than failing the batch.
func (c *RESTClient) ClosedWonSince(ctx context.Context, since time.Time) ([]Deal, error) {
	raws, err := c.Query(ctx, c.closedWonQuery(since))
	if err != nil {
		return nil, fmt.Errorf("closed-won opportunities since %s: %w", soqlDatetime(since), err)
	}
	return c.deals(ctx, raws)
}

// deals decodes Opportunity records and reads their line items and products.
func (c *RESTClient) deals(ctx context.Context, raws []json.RawMessage) ([]Deal, error) {
	deals := make([]Deal, 0, len(raws))
	index := make(map[string]int, len(raws))
	for i, raw := range raws {
		var d Deal
		r, err := newRecord(fmt.Sprintf("Opportunity[%d]", i), raw, &d.Problems)
		if err != nil {
			return nil, fmt.Errorf("closed-won opportunities: %w", err)
		}
		id := r.str("Id")
		if !ValidID(id) {
			return nil, fmt.Errorf("closed-won opportunities: record %d has no valid Id (%q)", i, id)
		}
		r.path = "Opportunity[" + id + "]"
		d.Opportunity = decodeOpportunity(r)
		if !c.cfg.MultiCurrency {
			d.Opportunity.CurrencyIsoCode = c.cfg.OrgCurrency
		}
		if a, ok := r.child("Account", r.path+".Account"); ok {
			d.Account = decodeAccount(a)
			if !c.cfg.MultiCurrency {
				d.Account.CurrencyIsoCode = c.cfg.OrgCurrency
			}
		}
		if _, dup := index[id]; dup {
			return nil, fmt.Errorf("closed-won opportunities: Opportunity %s returned twice", id)
		}
		index[id] = len(deals)
		deals = append(deals, d)
	}
	ids := make([]string, 0, len(deals))
	for _, d := range deals {
		ids = append(ids, d.Opportunity.ID)
	}
	for start := 0; start < len(ids); start += lineItemChunk {
		chunk := ids[start:min(start+lineItemChunk, len(ids))]
		items, err := c.Query(ctx, c.lineItemQuery(chunk))
		if err != nil {
			return nil, fmt.Errorf("line items of %d opportunities: %w", len(chunk), err)
		}
		for i, raw := range items {
			var problems []FieldProblem
			r, err := newRecord(fmt.Sprintf("OpportunityLineItem[%d]", i), raw, &problems)
			if err != nil {
				return nil, fmt.Errorf("line items: %w", err)
			}
			oppID := r.str("OpportunityId")
			at, ok := index[oppID]
			if !ok {
				return nil, fmt.Errorf("line items: record %d belongs to Opportunity %q, which was not asked for", i, oppID)
			}
			if id := r.str("Id"); id != "" {
				r.path = "OpportunityLineItem[" + id + "]"
			}
			li := decodeLineItem(r)
			deals[at].LineItems = append(deals[at].LineItems, li)
			deals[at].Problems = append(deals[at].Problems, problems...)
		}
	}
	return deals, nil
}
