package event

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
)

// batchOf returns a JSON array of the events, pretty-printed as a
// publisher might send it.
func batchOf(events ...string) string {
	return "[\n  " + strings.Join(events, " ,\n  ") + "\n]\n"
}

func TestParseBatch(t *testing.T) {
	events := []string{example(t, imsFile), example(t, caseFile), example(t, failedFile)}
	got, err := ParseBatch([]byte(batchOf(events...)))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(events) {
		t.Fatalf("%d events, want %d", len(got), len(events))
	}
	for i, ev := range got {
		single, err := Parse([]byte(events[i]))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(ev.Body, single.Body) || ev.Type != single.Type || ev.OrganizationID != single.OrganizationID || ev.OrderKey != single.OrderKey {
			t.Errorf("[%d] = %+v, want what Parse gives: %+v", i, ev, single)
		}
	}
	// The bodies share a buffer: appending to one must not write into the next.
	first := string(got[1].Body)
	_ = append(got[0].Body, "garbage"...)
	if string(got[1].Body) != first {
		t.Errorf("appending to [0].Body changed [1].Body to %s", got[1].Body)
	}
}

// Each event of a batch has its own order key, as Parse gives it, escaped
// ones and long ones included, though the batch makes them in one string.
func TestParseBatchOrderKeys(t *testing.T) {
	ims, cr := example(t, imsFile), example(t, caseFile)
	events := []string{
		ims,
		edit(t, ims, `"trxID": "000000-0000-0000-0000-000000"`, `"trxID": "a\u0042c\n"`),
		cr,
		edit(t, cr, `"caseID": "958CCF3BB6"`, `"caseID": "`+strings.Repeat("k", 300)+`"`),
		edit(t, ims, `"trxID": "000000-0000-0000-0000-000000"`, `"trxID": "x"`),
		ims,
	}
	got, err := ParseBatch([]byte(batchOf(events...)))
	if err != nil {
		t.Fatal(err)
	}
	for i, ev := range got {
		single, err := Parse([]byte(events[i]))
		if err != nil {
			t.Fatal(err)
		}
		if ev.OrderKey != single.OrderKey {
			t.Errorf("[%d] order key %q, want %q", i, ev.OrderKey, single.OrderKey)
		}
	}
	if got[1].OrderKey != "m:aBc\n" {
		t.Errorf("an escaped key: %q", got[1].OrderKey)
	}
}

func TestParseBatchInvalid(t *testing.T) {
	ims, cr := example(t, imsFile), example(t, caseFile)
	tests := []struct {
		name   string
		input  string
		fields []string
	}{
		{"one bad event", batchOf(ims, cr, edit(t, ims, `1587352926788`, `1.5`)), []string{"[2].integrationMessageStatus.timestamp"}},
		{"bad events everywhere", batchOf(edit(t, ims, `1111`, `"1111"`), cr, edit(t, cr, `"hello world"`, `2`)),
			[]string{"[0].organizationID", "[2].caseResolved.labels[1]"}},
		{"a missing field", batchOf(cr, edit(t, ims, `"type": "integration_message_status",`, ``)), []string{"[1].type"}},
		{"an element not an object", batchOf(ims, `"event"`, `[]`), []string{"[1]", "[2]"}},
		{"empty", `[ ]`, []string{"batch"}},
		{"too long", "[" + strings.Repeat(ims+",", MaxBatchLen) + ims + "]", []string{"batch"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseBatch([]byte(tt.input))
			e := asError(t, err)
			if e.Code != otw.EINVALID {
				t.Fatalf("code %q (%v), want %q", e.Code, err, otw.EINVALID)
			}
			if got := fieldNames(e); !slices.Equal(got, tt.fields) {
				t.Errorf("fields %q, want %q", got, tt.fields)
			}
		})
	}
}

func TestParseBatchLongest(t *testing.T) {
	ims := example(t, imsFile)
	got, err := ParseBatch([]byte("[" + strings.Repeat(ims+",", MaxBatchLen-1) + ims + "]"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != MaxBatchLen {
		t.Errorf("%d events, want %d", len(got), MaxBatchLen)
	}
}

func TestParseBatchMalformed(t *testing.T) {
	ims := example(t, imsFile)
	for _, in := range []string{``, ims, `"x"`, `[` + ims, `[` + ims + `,]`, `[` + ims + `] []`} {
		_, err := ParseBatch([]byte(in))
		if e := asError(t, err); e.Code != otw.EMALFORMED {
			t.Errorf("%.40q: code %q, want %q", in, e.Code, otw.EMALFORMED)
		}
	}
}

func TestParseBatchSize(t *testing.T) {
	ims := example(t, imsFile)
	big := edit(t, ims, `"reason": ""`, `"reason": "`+strings.Repeat("x", MaxEventBytes)+`"`)

	_, err := ParseBatch([]byte(batchOf(ims, big, ims)))
	e := asError(t, err)
	if e.Code != otw.ETOOLARGE {
		t.Fatalf("an element over MaxEventBytes: code %q, want %q", e.Code, otw.ETOOLARGE)
	}
	if got := fieldNames(e); !slices.Equal(got, []string{"[1]"}) {
		t.Errorf("fields %q, want [1]", got)
	}

	huge := "[" + strings.Repeat(" ", MaxBatchBytes) + ims + "]"
	_, err = ParseBatch([]byte(huge))
	if e := asError(t, err); e.Code != otw.ETOOLARGE {
		t.Errorf("a batch over MaxBatchBytes: code %q, want %q", e.Code, otw.ETOOLARGE)
	}

	// Nineteen events of nearly 256 KiB fit in 5 MiB.
	fits := edit(t, ims, `"reason": ""`, `"reason": "`+strings.Repeat("x", MaxEventBytes-400)+`"`)
	many := make([]string, 19)
	for i := range many {
		many[i] = fits
	}
	got, err := ParseBatch([]byte(batchOf(many...)))
	if err != nil {
		t.Fatalf("a batch of %d bytes: %v", len(batchOf(many...)), err)
	}
	if len(got) != len(many) {
		t.Errorf("%d events, want %d", len(got), len(many))
	}
}

func ExampleParseBatch() {
	_, err := ParseBatch([]byte(`[
		{"type":"case_resolved","organizationID":1,"caseResolved":{"caseID":"c","channelType":"","channelID":"","resolvedTime":1}},
		{"type":"integration_message_status","organizationID":1,"integrationMessageStatus":{"timestamp":"now"}}
	]`))
	var invalid *otw.Error
	if !errors.As(err, &invalid) {
		fmt.Println(err)
		return
	}
	for _, f := range invalid.Fields {
		fmt.Printf("%s: %s\n", f.Field, f.Message)
	}
	// Output:
	// [1].integrationMessageStatus.timestamp: must be a non-negative integer (Unix milliseconds)
	// [1].integrationMessageStatus.channelID: is required
	// [1].integrationMessageStatus.channelType: is required
	// [1].integrationMessageStatus.contactPhone: is required
	// [1].integrationMessageStatus.status: is required
	// [1].integrationMessageStatus.trxID: is required
}
