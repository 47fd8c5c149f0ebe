package codec

import (
	"net/http"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
)

// NewDataConverter wraps Temporal's default data converter so every payload goes through c.
func NewDataConverter(c *Codec) converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}

// NewFailureConverter encrypts failure messages and stack traces too (they may quote customer data).
func NewFailureConverter(c *Codec) converter.FailureConverter {
	return temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
		DataConverter:          NewDataConverter(c),
		EncodeCommonAttributes: true,
	})
}

// ClientOptions returns o with the encrypting data and failure converters set; use it for every
// client and worker, so workflows, activities and queries all read and write encrypted payloads.
func ClientOptions(o client.Options, c *Codec) client.Options {
	o.DataConverter = NewDataConverter(c)
	o.FailureConverter = NewFailureConverter(c)
	return o
}

// HTTPHandler serves the Temporal codec server protocol (POST .../encode and .../decode with a
// JSON {"payloads": [...]} body), for the Temporal UI and `temporal --codec-endpoint`.
func (c *Codec) HTTPHandler() http.Handler {
	return converter.NewPayloadCodecHTTPHandler(c)
}
