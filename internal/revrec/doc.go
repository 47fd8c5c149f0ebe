// Package revrec applies ASC 606 to revhub arrangements: it identifies performance obligations,
// determines and allocates the transaction price by relative standalone selling price (SSP),
// recognizes revenue ratably by day, as consumed, at a point in time or as breakage, handles
// amendments prospectively or by cumulative catch-up, and builds month-by-month schedules with
// deferred revenue, unbilled receivable, journal-entry suggestions and reports.
//
// Everything but store.go is pure: no clock, no I/O, deterministic output for a given input.
// The policies and worked examples are in docs/revenue-recognition.md.
package revrec
