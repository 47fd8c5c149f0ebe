package activities

import (
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/revhub/revhub/connectors/netsuite"
	"github.com/revhub/revhub/internal/ledger"
	"github.com/revhub/revhub/internal/payment"
	"github.com/revhub/revhub/internal/recon"
	"github.com/revhub/revhub/internal/revrec"
	"github.com/revhub/revhub/mappings"
)

// Deps are the services activities call; the worker builds them once.
type Deps struct {
	Pool     *pgxpool.Pool
	Log      *slog.Logger
	Chart    *ledger.Chart    // the chart of accounts entries are posted against
	Payments *payment.Service // provider calls with their idempotency records
	Now      func() time.Time // wall clock (activities, unlike workflows, may read it)
	SSP      *revrec.SSPTable // standalone selling prices; nil means revrec.DefaultSSPTable()
	// LateGrace is the late-event grace window after a period's end (usage.LatePolicy).
	LateGrace time.Duration
	// PaymentTermsDays is the default due date offset of invoices.
	PaymentTermsDays int
	// NetSuite is the ERP the ledger is posted to; nil leaves the ERP activities unconfigured.
	NetSuite netsuite.API
	// NetSuiteMapping maps ledger accounts, entities and currencies to NetSuite internal ids.
	NetSuiteMapping *mappings.NetSuiteConfig
	// Salesforce is the CRM deals come from; nil leaves the intake activities unconfigured (they fail retryably).
	Salesforce SalesforceCRM
	// CRMTolerance is how far the CRM reconciliation may be off before it blocks; zero allows no difference.
	CRMTolerance recon.Tolerance
	// CloseTolerances are the tolerances of the month-end close's own checks; the zero Config allows no difference.
	CloseTolerances recon.Config
}

// Set is every activity struct, registered on the worker together.
type Set struct {
	Billing    *Billing
	Collection *Collection
	Revenue    *Revenue
	ERP        *ERP
	Intake     *Intake
	Close      *Close
}

// New builds the activity set over d.
func New(d Deps) *Set {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Chart == nil {
		d.Chart = ledger.DefaultChart()
	}
	if d.PaymentTermsDays == 0 {
		d.PaymentTermsDays = 30
	}
	dp := &d
	return &Set{Billing: &Billing{deps: dp}, Collection: &Collection{deps: dp}, Revenue: &Revenue{deps: dp}, ERP: &ERP{deps: dp}, Intake: &Intake{deps: dp}, Close: &Close{deps: dp}}
}
