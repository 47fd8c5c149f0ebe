package codec

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	commonpb "go.temporal.io/api/common/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/proxy"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/proto"

	"github.com/revhub/revhub/internal/temporaltest"
)

func describeInvoice(_ context.Context, in invoiceInput) (string, error) {
	return "invoice for " + in.Customer + " of " + in.Amount.StringFixed(2), nil
}

func invoiceWorkflow(ctx workflow.Context, in invoiceInput) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second})
	var out string
	err := workflow.ExecuteActivity(ctx, describeInvoice, in).Get(ctx, &out)
	return out, err
}

// TestHistoryEncrypted runs a workflow through a client and worker using the codec, then reads its
// history with a plain client: no customer name or amount is visible; decoded with the codec, both are.
func TestHistoryEncrypted(t *testing.T) {
	const customer, amount = "Globex Umbrella Corporation", "98765.43"
	plain := temporaltest.Client(t)
	c := newCodec(t, specOf("2026-11", 5))
	enc, err := client.Dial(ClientOptions(client.Options{HostPort: temporaltest.Address(t), Namespace: "default", Logger: log.NewStructuredLogger(slog.New(slog.DiscardHandler))}, c))
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()

	queue := temporaltest.TaskQueue(t)
	w := worker.New(enc, queue, worker.Options{})
	w.RegisterWorkflow(invoiceWorkflow)
	w.RegisterActivity(describeInvoice)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	in := invoiceInput{Customer: customer, Amount: decimal.RequireFromString(amount)}
	run, err := enc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "codec-test-" + queue, TaskQueue: queue}, invoiceWorkflow, in)
	if err != nil {
		t.Fatal(err)
	}
	var result string
	if err := run.Get(ctx, &result); err != nil {
		t.Fatal(err)
	}
	if want := "invoice for " + customer + " of " + amount; result != want {
		t.Fatalf("result = %q, want %q", result, want)
	}

	// The binary history holds payload bytes as they are stored, so plain text would show here.
	history := readHistory(ctx, t, plain, run.GetID(), run.GetRunID())
	raw, err := proto.Marshal(history)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{customer, "Globex", amount} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("history read without the codec shows %q", secret)
		}
	}
	encrypted := 0
	visit(ctx, t, history, func(p *commonpb.Payload) *commonpb.Payload {
		if string(p.GetMetadata()[MetadataEncoding]) == EncodingEncrypted && string(p.GetMetadata()[MetadataKeyID]) == "2026-11" {
			encrypted++
		}
		return p
	})
	if encrypted < 3 { // workflow input, activity input and result, workflow result
		t.Errorf("%d encrypted payloads in the history, want at least 3", encrypted)
	}

	visit(ctx, t, history, func(p *commonpb.Payload) *commonpb.Payload {
		out, err := c.Decode([]*commonpb.Payload{p})
		if err != nil {
			t.Fatal(err)
		}
		return out[0]
	})
	decoded, err := proto.Marshal(history)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{customer, amount} {
		if !bytes.Contains(decoded, []byte(secret)) {
			t.Errorf("history decoded with the codec lacks %q", secret)
		}
	}
	if bytes.Contains(decoded, []byte(EncodingEncrypted)) {
		t.Error("decoded history still holds encrypted payloads")
	}
}

// visit applies fn to every payload in the history, in place.
func visit(ctx context.Context, t *testing.T, h *historypb.History, fn func(*commonpb.Payload) *commonpb.Payload) {
	t.Helper()
	err := proxy.VisitPayloads(ctx, h, proxy.VisitPayloadsOptions{
		Visitor: func(_ *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
			out := make([]*commonpb.Payload, len(ps))
			for i, p := range ps {
				out[i] = fn(p)
			}
			return out, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
}

func readHistory(ctx context.Context, t *testing.T, c client.Client, id, runID string) *historypb.History {
	t.Helper()
	it := c.GetWorkflowHistory(ctx, id, runID, false, 0)
	h := &historypb.History{}
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		h.Events = append(h.Events, e)
	}
	return h
}
