// Package config reads revhub's outside-system settings. Secrets (provider keys, OAuth secrets,
// the codec keys) come only from environment variables or files named by NAME_FILE, never from
// flags (which show in process lists), and never reach logs: Secret prints as "[redacted]".
package config

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
)

// Secret is a value that must never be printed or logged.
type Secret string

// String hides the value.
func (Secret) String() string { return "[redacted]" }

// GoString hides the value from %#v.
func (Secret) GoString() string { return `config.Secret("[redacted]")` }

// LogValue hides the value from log/slog.
func (Secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// MarshalText hides the value from encoders.
func (Secret) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// Reveal returns the value for the one place that must send it (an Authorization header).
func (s Secret) Reveal() string { return string(s) }

// Getenv is os.Getenv or a test's replacement.
type Getenv func(string) string

// ReadSecret reads NAME from the environment, or the file named by NAME_FILE (trailing newline
// trimmed). Setting both is an error naming the variable; neither gives "".
func ReadSecret(getenv Getenv, name string) (Secret, error) {
	v, file := getenv(name), getenv(name+"_FILE")
	switch {
	case v != "" && file != "":
		return "", fmt.Errorf("%s: set either %s or %s_FILE, not both", name, name, name)
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("%s_FILE: cannot read the secret file: %w", name, unwrapPath(err))
		}
		return Secret(strings.TrimRight(string(b), "\r\n")), nil
	}
	return Secret(v), nil
}

// unwrapPath keeps the reason of a file error without repeating the path in every log line.
func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
