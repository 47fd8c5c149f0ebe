package activities

import "time"

// parseDay parses a YYYY-MM-DD input field as a UTC midnight.
func parseDay(field, s string) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, invalid(field, "%q is not a YYYY-MM-DD date", s)
	}
	return t, nil
}
