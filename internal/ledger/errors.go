package ledger

import (
	"errors"
	"github.com/revhub/revhub/internal/problem"
)

// Problem is one reason an input was refused, naming the field by its path.
type Problem = problem.Problem

// InvalidError lists every problem found in an input at once.
type InvalidError = problem.Error

// problems collects validation problems and turns them into an *InvalidError.
type problems = problem.List

var (
	// ErrConflict means an entry with the same key but different content is already posted.
	ErrConflict = errors.New("ledger: an entry with this key and different content already exists")
	// ErrPeriodClosed means the entry's accounting period is closed.
	ErrPeriodClosed = errors.New("ledger: accounting period is closed")
	// ErrUnbalanced means PostgreSQL refused an entry whose postings do not sum to zero per currency.
	ErrUnbalanced = errors.New("ledger: entry does not balance")
	// ErrNotFound means no entry has the given key.
	ErrNotFound = errors.New("ledger: entry not found")
	// ErrNothingToPost means a business event has no ledger effect (every amount is zero).
	ErrNothingToPost = errors.New("ledger: nothing to post")
)
