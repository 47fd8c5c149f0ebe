// Package codec encrypts Temporal payloads (AES-256-GCM, key id in the payload metadata) so
// contract terms, customer names and amounts never sit in plain text in workflow histories.
package codec

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
)

// KeySize is the length in bytes of an AES-256 key.
const KeySize = 32

// Environment variables the keyring is loaded from.
const (
	EnvKeys     = "REVHUB_CODEC_KEYS"      // "id1:base64key,id2:base64key"; the first is the active key
	EnvKeysFile = "REVHUB_CODEC_KEYS_FILE" // a file holding the same list, commas or newlines between entries
)

// ErrNoKeys means neither REVHUB_CODEC_KEYS nor REVHUB_CODEC_KEYS_FILE is set.
var ErrNoKeys = errors.New("codec: no keys configured (set " + EnvKeys + " or " + EnvKeysFile + ")")

var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Keyring holds the encryption keys by id; the active key encrypts, any known key decrypts.
type Keyring struct {
	active string
	keys   map[string][]byte
}

// NewKeyring builds a keyring from ids and raw 32-byte keys; active must be one of them.
func NewKeyring(active string, keys map[string][]byte) (*Keyring, error) {
	if _, ok := keys[active]; !ok {
		return nil, fmt.Errorf("codec: active key id %q is not in the keyring", active)
	}
	k := &Keyring{active: active, keys: make(map[string][]byte, len(keys))}
	for id, key := range keys {
		if !keyIDPattern.MatchString(id) {
			return nil, fmt.Errorf("codec: key id %q: must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit", id)
		}
		if len(key) != KeySize {
			return nil, fmt.Errorf("codec: key %q: must be %d bytes, got %d", id, KeySize, len(key))
		}
		k.keys[id] = append([]byte(nil), key...)
	}
	return k, nil
}

// ParseKeyring parses "id1:base64key,id2:base64key" (commas or newlines, '#' comments); the first
// entry is the active key. Every problem is reported at once, naming the entry, never the key.
func ParseKeyring(spec string) (*Keyring, error) {
	var (
		problems []string
		active   string
		keys     = map[string][]byte{}
	)
	n := 0
	for _, line := range strings.Split(spec, "\n") {
		if i := strings.Index(line, "#"); i >= 0 {
			line = line[:i]
		}
		for _, entry := range strings.Split(line, ",") {
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			n++
			id, b64, ok := strings.Cut(entry, ":")
			id = strings.TrimSpace(id)
			if !ok {
				problems = append(problems, fmt.Sprintf("entry %d: must be id:base64key", n))
				continue
			}
			if !keyIDPattern.MatchString(id) {
				problems = append(problems, fmt.Sprintf("entry %d: key id must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit", n))
				continue
			}
			if _, dup := keys[id]; dup {
				problems = append(problems, fmt.Sprintf("entry %d: key id %q appears more than once", n, id))
				continue
			}
			key, err := decodeKey(strings.TrimSpace(b64))
			if err != nil {
				problems = append(problems, fmt.Sprintf("entry %d (key id %q): %v", n, id, err))
				continue
			}
			if active == "" {
				active = id
			}
			keys[id] = key
		}
	}
	if n == 0 {
		problems = append(problems, "no keys: expected id:base64key[,id:base64key...]")
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("codec: invalid key list: %s", strings.Join(problems, "; "))
	}
	return NewKeyring(active, keys)
}

// decodeKey accepts standard or URL-safe base64, padded or not; errors never echo the input.
func decodeKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != KeySize {
				return nil, fmt.Errorf("key must decode to %d bytes, got %d", KeySize, len(b))
			}
			return b, nil
		}
	}
	return nil, errors.New("key is not valid base64")
}

// LoadKeyring reads the keyring from REVHUB_CODEC_KEYS, or else the file named by
// REVHUB_CODEC_KEYS_FILE; with neither set it returns ErrNoKeys.
func LoadKeyring(getenv func(string) string) (*Keyring, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if spec := getenv(EnvKeys); spec != "" {
		k, err := ParseKeyring(spec)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvKeys, err)
		}
		return k, nil
	}
	if path := getenv(EnvKeysFile); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvKeysFile, err)
		}
		k, err := ParseKeyring(string(b))
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", EnvKeysFile, path, err)
		}
		return k, nil
	}
	return nil, ErrNoKeys
}

// ActiveID returns the id of the key new payloads are encrypted with.
func (k *Keyring) ActiveID() string { return k.active }

// IDs returns every known key id, the active one first, then the rest sorted.
func (k Keyring) IDs() []string {
	out := []string{k.active}
	var rest []string
	for id := range k.keys {
		if id != k.active {
			rest = append(rest, id)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

// String names the key ids only, so printing a keyring never leaks key material.
func (k Keyring) String() string {
	return fmt.Sprintf("codec.Keyring{active: %s, ids: %s}", k.active, strings.Join(k.IDs(), ","))
}

// GoString is String, for %#v.
func (k Keyring) GoString() string { return k.String() }

// GenerateKey returns a new "id:base64key" entry with a random 32-byte key, for the key list.
func GenerateKey(id string) (string, error) {
	if !keyIDPattern.MatchString(id) {
		return "", fmt.Errorf("codec: key id %q: must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit", id)
	}
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("codec: random key: %w", err)
	}
	return id + ":" + base64.StdEncoding.EncodeToString(key), nil
}

// Load builds the codec from the environment (see LoadKeyring); ErrNoKeys when none is configured.
func Load(getenv func(string) string) (*Codec, error) {
	ring, err := LoadKeyring(getenv)
	if err != nil {
		return nil, err
	}
	return New(ring)
}
