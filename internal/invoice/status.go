package invoice

import "fmt"

// Status is where an invoice is in its life cycle.
type Status string

// The invoice statuses; an invoice is numbered and immutable from StatusFinalized on.
const (
	StatusDraft         Status = "draft"          // being prepared; no number, may still be voided
	StatusFinalized     Status = "finalized"      // numbered, issued, awaiting payment
	StatusPartiallyPaid Status = "partially_paid" // some but not all of the amount due received
	StatusPaid          Status = "paid"           // nothing left due (paid, credited, or zero-amount)
	StatusVoid          Status = "void"           // cancelled; nothing is owed (terminal)
	StatusUncollectible Status = "uncollectible"  // written off as bad debt; a late payment still settles it
)

// Action is a life-cycle event applied to an invoice.
type Action string

// The actions of the invoice state machine.
const (
	ActionFinalize          Action = "finalize"
	ActionPay               Action = "pay"
	ActionCredit            Action = "credit"
	ActionVoid              Action = "void"
	ActionMarkUncollectible Action = "mark uncollectible"
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	switch s {
	case StatusDraft, StatusFinalized, StatusPartiallyPaid, StatusPaid, StatusVoid, StatusUncollectible:
		return true
	}
	return false
}

// Numbered reports whether an invoice in status s carries its final number.
func (s Status) Numbered() bool {
	return s != StatusDraft && s != StatusVoid
}

// TransitionError says an action is not allowed in the invoice's current status.
type TransitionError struct {
	Action Action
	From   Status
}

// Error implements error.
func (e *TransitionError) Error() string {
	return fmt.Sprintf("invoice: cannot %s: status is %s", e.Action, e.From)
}

// Next is the pure state machine: the status after applying a to an invoice in status from.
// settled says whether nothing is left due once the action's amount is applied (a zero-amount
// invoice is settled at finalization; a payment or credit note covering the rest settles it).
func Next(from Status, a Action, settled bool) (Status, error) {
	refuse := func() (Status, error) { return "", &TransitionError{Action: a, From: from} }
	switch a {
	case ActionFinalize:
		if from != StatusDraft {
			return refuse()
		}
		if settled {
			return StatusPaid, nil
		}
		return StatusFinalized, nil
	case ActionPay:
		switch from {
		case StatusFinalized, StatusPartiallyPaid, StatusUncollectible:
			if settled {
				return StatusPaid, nil
			}
			return StatusPartiallyPaid, nil
		}
		return refuse()
	case ActionCredit:
		switch from {
		case StatusFinalized, StatusPartiallyPaid, StatusUncollectible:
			if settled {
				return StatusPaid, nil
			}
			return from, nil
		case StatusPaid:
			return StatusPaid, nil
		}
		return refuse()
	case ActionVoid:
		switch from {
		case StatusDraft, StatusFinalized, StatusUncollectible:
			return StatusVoid, nil
		}
		return refuse()
	case ActionMarkUncollectible:
		switch from {
		case StatusFinalized, StatusPartiallyPaid:
			return StatusUncollectible, nil
		}
		return refuse()
	}
	return "", fmt.Errorf("invoice: unknown action %q", a)
}
