package contract

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/revhub/revhub/internal/db"
)

// ErrNotFound is returned when no contract has the requested id.
var ErrNotFound = errors.New("contract not found")

// ErrVersionConflict is returned when a version number is already stored with a different document.
var ErrVersionConflict = errors.New("contract version already exists with a different document")

// Create stores version 1 of a new contract. Storing the same document again is a no-op (created is false);
// a different document under the same id and version is ErrVersionConflict.
func Create(ctx context.Context, q db.Querier, v Version) (created bool, err error) {
	if v.Version != 1 {
		return false, Problems{{Path: "version", Reason: fmt.Sprintf("a new contract starts at version 1, got %d", v.Version)}}
	}
	if err := v.Validate(); err != nil {
		return false, err
	}
	if _, err := q.Exec(ctx, `INSERT INTO contracts (id, customer_external_id) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`,
		v.ContractID, v.Customer.ExternalID); err != nil {
		return false, fmt.Errorf("create contract %s: %w", v.ContractID, err)
	}
	var customer string
	if err := q.QueryRow(ctx, `SELECT customer_external_id FROM contracts WHERE id = $1`, v.ContractID).Scan(&customer); err != nil {
		return false, fmt.Errorf("create contract %s: %w", v.ContractID, err)
	}
	if customer != v.Customer.ExternalID {
		return false, fmt.Errorf("create contract %s for customer %s: the id belongs to customer %s: %w", v.ContractID, v.Customer.ExternalID, customer, ErrVersionConflict)
	}
	return insertVersion(ctx, q, v)
}

// Amend stores the next version of an existing contract after the checks of Contract.Amend: the next number,
// effective on or after invoicedThrough (the end of the last invoiced period) and after the previous version.
// Storing the same amendment again is a no-op (created is false).
func Amend(ctx context.Context, q db.Querier, v Version, invoicedThrough Date) (created bool, err error) {
	c, err := Get(ctx, q, v.ContractID)
	if err != nil {
		return false, err
	}
	for _, have := range c.Versions {
		if have.Version == v.Version {
			same, err := sameDocument(have, v)
			if err != nil {
				return false, err
			}
			if !same {
				return false, fmt.Errorf("amend contract %s version %d: %w", v.ContractID, v.Version, ErrVersionConflict)
			}
			return false, nil
		}
	}
	if err := c.Amend(v, invoicedThrough); err != nil {
		return false, err
	}
	if v.Customer.ExternalID != c.Versions[0].Customer.ExternalID {
		return false, Problems{{Path: "customer.external_id", Reason: fmt.Sprintf("a contract keeps its customer %q; start a new contract for %q", c.Versions[0].Customer.ExternalID, v.Customer.ExternalID)}}
	}
	return insertVersion(ctx, q, v)
}

func hashOf(v Version) ([]byte, []byte, error) {
	doc, err := json.Marshal(v)
	if err != nil {
		return nil, nil, fmt.Errorf("encode contract %s version %d: %w", v.ContractID, v.Version, err)
	}
	h := sha256.Sum256(doc)
	return doc, h[:], nil
}

func sameDocument(a, b Version) (bool, error) {
	_, ha, err := hashOf(a)
	if err != nil {
		return false, err
	}
	_, hb, err := hashOf(b)
	if err != nil {
		return false, err
	}
	return bytes.Equal(ha, hb), nil
}

func insertVersion(ctx context.Context, q db.Querier, v Version) (bool, error) {
	doc, hash, err := hashOf(v)
	if err != nil {
		return false, err
	}
	var end *time.Time
	if !v.End.IsZero() {
		t := v.End.Time()
		end = &t
	}
	tag, err := q.Exec(ctx, `
		INSERT INTO contract_versions (contract_id, version, effective_from, status, customer_external_id, currency,
			billing_entity, payment_provider, payment_method, cadence, timing, start_date, end_date, document, document_hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
		ON CONFLICT (contract_id, version) DO NOTHING`,
		v.ContractID, v.Version, v.EffectiveStart().Time(), string(v.Status), v.Customer.ExternalID, string(v.Currency),
		v.BillingEntity, string(v.PaymentProvider), v.PaymentMethod, string(v.Billing.Cadence), string(v.Billing.Timing),
		v.Start.Time(), end, doc, hash)
	if err != nil {
		if db.IsUniqueViolation(err, "contract_versions_effective_key") {
			return false, Problems{{Path: "effective_from", Reason: fmt.Sprintf("contract %s already has a version effective on %s", v.ContractID, v.EffectiveStart())}}
		}
		return false, fmt.Errorf("insert contract %s version %d: %w", v.ContractID, v.Version, err)
	}
	if tag.RowsAffected() == 1 {
		return true, nil
	}
	var stored []byte
	if err := q.QueryRow(ctx, `SELECT document_hash FROM contract_versions WHERE contract_id = $1 AND version = $2`,
		v.ContractID, v.Version).Scan(&stored); err != nil {
		return false, fmt.Errorf("read contract %s version %d: %w", v.ContractID, v.Version, err)
	}
	if !bytes.Equal(stored, hash) {
		return false, fmt.Errorf("store contract %s version %d: %w", v.ContractID, v.Version, ErrVersionConflict)
	}
	return false, nil
}

// Get loads a contract with all its versions, ordered by version number.
func Get(ctx context.Context, q db.Querier, id string) (Contract, error) {
	rows, err := q.Query(ctx, `SELECT document FROM contract_versions WHERE contract_id = $1 ORDER BY version`, id)
	if err != nil {
		return Contract{}, fmt.Errorf("get contract %s: %w", id, err)
	}
	vs, err := scanVersions(rows)
	if err != nil {
		return Contract{}, fmt.Errorf("get contract %s: %w", id, err)
	}
	if len(vs) == 0 {
		return Contract{}, fmt.Errorf("get contract %s: %w", id, ErrNotFound)
	}
	return Contract{ID: id, Versions: vs}, nil
}

// ListByCustomer loads every contract of a customer (by external id), ordered by contract id.
func ListByCustomer(ctx context.Context, q db.Querier, customerExternalID string) ([]Contract, error) {
	rows, err := q.Query(ctx, `
		SELECT v.document FROM contract_versions v JOIN contracts c ON c.id = v.contract_id
		WHERE c.customer_external_id = $1 ORDER BY v.contract_id, v.version`, customerExternalID)
	if err != nil {
		return nil, fmt.Errorf("list contracts of %s: %w", customerExternalID, err)
	}
	vs, err := scanVersions(rows)
	if err != nil {
		return nil, fmt.Errorf("list contracts of %s: %w", customerExternalID, err)
	}
	return groupVersions(vs), nil
}

// ActiveOn lists the contracts with a version in force on day d whose status is active, ordered by id.
func ActiveOn(ctx context.Context, q db.Querier, d Date) ([]Contract, error) {
	rows, err := q.Query(ctx, `
		SELECT DISTINCT ON (contract_id) contract_id, status, start_date, end_date
		FROM contract_versions WHERE effective_from <= $1
		ORDER BY contract_id, version DESC`, d.Time())
	if err != nil {
		return nil, fmt.Errorf("contracts active on %s: %w", d, err)
	}
	type head struct {
		id, status string
		start      time.Time
		end        *time.Time
	}
	heads, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (head, error) {
		var h head
		err := r.Scan(&h.id, &h.status, &h.start, &h.end)
		return h, err
	})
	if err != nil {
		return nil, fmt.Errorf("contracts active on %s: %w", d, err)
	}
	var out []Contract
	for _, h := range heads {
		if h.status != string(StatusActive) || d.Before(DateOf(h.start)) || (h.end != nil && !d.Before(DateOf(*h.end))) {
			continue
		}
		c, err := Get(ctx, q, h.id)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func scanVersions(rows pgx.Rows) ([]Version, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Version, error) {
		var doc []byte
		if err := r.Scan(&doc); err != nil {
			return Version{}, err
		}
		var v Version
		if err := json.Unmarshal(doc, &v); err != nil {
			return Version{}, fmt.Errorf("decode stored document: %w", err)
		}
		return v, nil
	})
}

// ListByEntity loads every contract with a version billed from a billing entity, ordered by contract id.
func ListByEntity(ctx context.Context, q db.Querier, billingEntity string) ([]Contract, error) {
	rows, err := q.Query(ctx, `
		SELECT document FROM contract_versions
		WHERE contract_id IN (SELECT contract_id FROM contract_versions WHERE billing_entity = $1)
		ORDER BY contract_id, version`, billingEntity)
	if err != nil {
		return nil, fmt.Errorf("list contracts of entity %s: %w", billingEntity, err)
	}
	vs, err := scanVersions(rows)
	if err != nil {
		return nil, fmt.Errorf("list contracts of entity %s: %w", billingEntity, err)
	}
	return groupVersions(vs), nil
}

// groupVersions gathers versions ordered by contract id into contracts.
func groupVersions(vs []Version) []Contract {
	var out []Contract
	for _, v := range vs {
		if len(out) == 0 || out[len(out)-1].ID != v.ContractID {
			out = append(out, Contract{ID: v.ContractID})
		}
		out[len(out)-1].Versions = append(out[len(out)-1].Versions, v)
	}
	return out
}
