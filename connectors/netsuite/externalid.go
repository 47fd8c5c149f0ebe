package netsuite

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// ExternalIDPrefix starts every external id revhub gives a NetSuite record.
const ExternalIDPrefix = "rh-"

// maxEscaped is the longest escaped key kept readable; longer keys are hashed.
const maxEscaped = 200

// ExternalID maps a ledger key ("invoice:inv_1:finalized") to a NetSuite external id, which may
// only hold letters, digits, '_' and '-'. The scheme is deterministic and collision-free, even if
// NetSuite compared ids case-insensitively: after the prefix "rh-", lower-case letters, digits and
// '-' stand for themselves, '_' becomes "__", ':' becomes "_-", and any other byte (upper case
// included) becomes '_' plus two lower-case hex digits ("invoice:inv_1:finalized" ->
// "rh-invoice_-inv__1_-finalized"). Keys whose escape exceeds 200 characters become "rhh-" plus
// the hex SHA-256 of the key (64 characters).
func ExternalID(key string) string {
	var b strings.Builder
	b.WriteString(ExternalIDPrefix)
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-':
			b.WriteByte(c)
		case c == '_':
			b.WriteString("__")
		case c == ':':
			b.WriteString("_-")
		default:
			fmt.Fprintf(&b, "_%02x", c)
		}
	}
	if b.Len()-len(ExternalIDPrefix) > maxEscaped {
		sum := sha256.Sum256([]byte(key))
		return "rhh-" + hex.EncodeToString(sum[:])
	}
	return b.String()
}

// KeyFromExternalID inverts ExternalID for escaped ids; hashed or foreign ids report false.
func KeyFromExternalID(id string) (string, bool) {
	rest, ok := strings.CutPrefix(id, ExternalIDPrefix)
	if !ok {
		return "", false
	}
	var b strings.Builder
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if c != '_' {
			b.WriteByte(c)
			continue
		}
		if i+1 >= len(rest) {
			return "", false
		}
		switch rest[i+1] {
		case '_':
			b.WriteByte('_')
			i++
		case '-':
			b.WriteByte(':')
			i++
		default:
			if i+2 >= len(rest) {
				return "", false
			}
			v, err := strconv.ParseUint(rest[i+1:i+3], 16, 8)
			if err != nil {
				return "", false
			}
			b.WriteByte(byte(v))
			i += 2
		}
	}
	return b.String(), true
}

// ValidExternalID reports whether s is a usable NetSuite external id (letters, digits, '_', '-').
func ValidExternalID(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
