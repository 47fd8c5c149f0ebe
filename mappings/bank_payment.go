package mappings

import (
	"github.com/revhub/revhub/connectors/bank"
	"github.com/revhub/revhub/internal/payment"
)

// BankStatementLine translates a parsed statement line for matching: the RF creditor reference
// is extracted from the free remittance text (spaces and case ignored, check digits verified).
func BankStatementLine(l bank.Line) payment.StatementLine {
	ref, _ := payment.FindReference(l.Reference)
	return payment.StatementLine{Account: l.Account, TransactionID: l.TransactionID, BookedOn: l.BookedOn, Amount: l.Amount,
		Currency: l.Currency, Reference: ref, RemittanceText: l.Reference, Counterparty: l.Counterparty}
}
