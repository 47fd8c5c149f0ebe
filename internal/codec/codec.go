package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
)

// Payload metadata written on every encrypted payload.
const (
	MetadataEncoding  = "encoding"          // Temporal's standard metadata key for the payload format
	EncodingEncrypted = "binary/encrypted"  // the value of MetadataEncoding on an encrypted payload
	MetadataKeyID     = "encryption-key-id" // the id of the key that encrypted the payload
)

// ErrTampered means a ciphertext failed authentication: it was altered or the key is not the one used.
var ErrTampered = errors.New("codec: encrypted payload failed authentication (altered, or encrypted with a different key under this id)")

// UnknownKeyError means a payload names a key id the keyring does not hold.
type UnknownKeyError struct {
	ID    string   // the key id in the payload's metadata
	Known []string // the ids the keyring holds
}

func (e *UnknownKeyError) Error() string {
	return fmt.Sprintf("codec: unknown encryption key id %q (keyring holds %s)", e.ID, strings.Join(e.Known, ", "))
}

// Codec is a converter.PayloadCodec encrypting each payload with AES-256-GCM under the active key.
type Codec struct {
	ring  *Keyring
	aeads map[string]cipher.AEAD
}

var _ converter.PayloadCodec = (*Codec)(nil)

// New builds a codec over the keyring.
func New(ring *Keyring) (*Codec, error) {
	if ring == nil || ring.keys[ring.active] == nil {
		return nil, errors.New("codec: keyring has no active key (build it with ParseKeyring, LoadKeyring or NewKeyring)")
	}
	c := &Codec{ring: ring, aeads: make(map[string]cipher.AEAD, len(ring.keys))}
	for id, key := range ring.keys {
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("codec: key %q: %w", id, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("codec: key %q: %w", id, err)
		}
		c.aeads[id] = aead
	}
	return c, nil
}

// String names the key ids only, so printing a codec never leaks key material.
func (c Codec) String() string { return "codec.Codec{" + c.ring.String() + "}" }

// GoString is String, for %#v.
func (c Codec) GoString() string { return c.String() }

// Keyring returns the codec's keyring.
func (c *Codec) Keyring() *Keyring { return c.ring }

// Encode encrypts each whole payload (data and metadata) under the active key with a random
// nonce; the key id is the additional authenticated data, so it cannot be swapped.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	id := c.ring.active
	aead := c.aeads[id]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("codec: payload %d: marshal: %w", i, err)
		}
		nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
		if _, err := rand.Read(nonce); err != nil {
			return nil, fmt.Errorf("codec: payload %d: nonce: %w", i, err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				MetadataEncoding: []byte(EncodingEncrypted),
				MetadataKeyID:    []byte(id),
			},
			Data: aead.Seal(nonce, nonce, plain, []byte(id)),
		}
	}
	return out, nil
}

// Decode decrypts payloads encrypted by any key in the keyring and passes others through unchanged,
// so histories written before the codec was switched on stay readable.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[MetadataEncoding]) != EncodingEncrypted {
			out[i] = p
			continue
		}
		id := string(p.GetMetadata()[MetadataKeyID])
		aead, ok := c.aeads[id]
		if !ok {
			return nil, fmt.Errorf("codec: payload %d: %w", i, &UnknownKeyError{ID: id, Known: c.ring.IDs()})
		}
		data := p.GetData()
		if len(data) < aead.NonceSize()+aead.Overhead() {
			return nil, fmt.Errorf("codec: payload %d (key id %q): ciphertext of %d bytes is too short: %w", i, id, len(data), ErrTampered)
		}
		nonce, sealed := data[:aead.NonceSize()], data[aead.NonceSize():]
		plain, err := aead.Open(nil, nonce, sealed, []byte(id))
		if err != nil {
			return nil, fmt.Errorf("codec: payload %d (key id %q): %w", i, id, ErrTampered)
		}
		var inner commonpb.Payload
		if err := proto.Unmarshal(plain, &inner); err != nil {
			return nil, fmt.Errorf("codec: payload %d (key id %q): decrypted payload is not a Temporal payload: %w", i, id, err)
		}
		out[i] = &inner
	}
	return out, nil
}
