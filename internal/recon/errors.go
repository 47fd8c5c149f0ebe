package recon

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
	// ErrConflict means a result for the same run, check and attempt was saved with other content.
	ErrConflict = errors.New("recon: a result for this run, check and attempt was already saved with different content")
	// ErrNotFound means no result exists for the run and check.
	ErrNotFound = errors.New("recon: no result for this run and check")
	// ErrAlreadyDecided means the check or difference was already approved by someone else or for another reason.
	ErrAlreadyDecided = errors.New("recon: already approved")
	// ErrNotBlocked means an approval was asked for a check that does not block the close.
	ErrNotBlocked = errors.New("recon: the check does not block the close; nothing to approve")
)
