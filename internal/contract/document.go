package contract

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Format is a contract document's encoding.
type Format string

// Document formats.
const (
	JSON Format = "json"
	YAML Format = "yaml"
)

// FormatOf picks the format from a file name's extension, falling back to sniffing the content
// (a document whose first non-blank byte is '{' is JSON).
func FormatOf(name string, data []byte) Format {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".json":
		return JSON
	case ".yaml", ".yml":
		return YAML
	}
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		return JSON
	}
	return YAML
}

// ParseVersion strictly decodes one contract version document (unknown fields are errors) and validates it,
// returning every problem at once.
func ParseVersion(data []byte, f Format) (Version, error) {
	var v Version
	if err := decodeStrict(data, f, &v); err != nil {
		return Version{}, err
	}
	if err := v.Validate(); err != nil {
		return Version{}, err
	}
	return v, nil
}

// ParseContract strictly decodes a contract document with all its versions and validates it.
func ParseContract(data []byte, f Format) (Contract, error) {
	var c Contract
	if err := decodeStrict(data, f, &c); err != nil {
		return Contract{}, err
	}
	if err := c.Validate(); err != nil {
		return Contract{}, err
	}
	return c, nil
}

// Encode writes a version document in the given format.
func (v Version) Encode(w io.Writer, f Format) error {
	if f == JSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return err
	}
	return enc.Close()
}

func decodeStrict(data []byte, f Format, out any) error {
	switch f {
	case JSON:
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(out); err != nil {
			return Problems{{Path: jsonErrorPath(err), Reason: "malformed document: " + err.Error()}}
		}
		if dec.More() {
			return Problems{{Path: "$", Reason: "malformed document: data after the top-level object"}}
		}
		return nil
	case YAML:
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(out); err != nil {
			var te *yaml.TypeError
			if errors.As(err, &te) {
				ps := make(Problems, 0, len(te.Errors))
				for _, e := range te.Errors {
					ps = append(ps, Problem{Path: "$", Reason: "malformed document: " + e})
				}
				return ps
			}
			if errors.Is(err, io.EOF) {
				return Problems{{Path: "$", Reason: "empty document"}}
			}
			return Problems{{Path: "$", Reason: "malformed document: " + err.Error()}}
		}
		return nil
	}
	return fmt.Errorf("contract document: unknown format %q (want json or yaml)", f)
}

func jsonErrorPath(err error) string {
	var ute *json.UnmarshalTypeError
	if errors.As(err, &ute) && ute.Field != "" {
		return ute.Field
	}
	return "$"
}
