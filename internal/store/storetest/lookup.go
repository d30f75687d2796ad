package storetest

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// LookupRows is how many deliveries LookupAmong10M has a driver fill: ten
// million, four per message (acknowledge, delivered, read, one more).
const LookupRows = 10_000_000

// LookupAmong10M times trxID lookups through ListDeliveries among
// LookupRows deliveries of one organization (ID 1). fill makes them in a
// store of the driver: event i (from 1) of type
// integration_message_status with order key m:trx-NNNNNNNNN, NNNNNNNNN
// being i/4 in nine digits, created at base plus i/4 milliseconds, and its
// delivery, succeeded or, every fiftieth, failed. It returns the store and
// the plan of the lookup's statement, which must read deliveries_key. The
// measurement takes minutes and gigabytes, so it runs only with
// OTW_BENCH_10M=1.
func LookupAmong10M(t *testing.T, fill func(t *testing.T, base time.Time) (s store.Store, plan string)) {
	if os.Getenv("OTW_BENCH_10M") != "1" {
		t.Skip("set OTW_BENCH_10M=1 to fill 10 million deliveries and time a lookup")
	}
	start := time.Now()
	s, plan := fill(t, start.Add(-30*24*time.Hour))
	t.Logf("filled %d deliveries in %v", LookupRows, time.Since(start).Round(time.Second))
	t.Logf("plan of a trxID lookup:\n%s", plan)
	if !strings.Contains(plan, "deliveries_key") {
		t.Errorf("a trxID lookup does not use deliveries_key")
	}
	ctx := context.Background()
	var took []time.Duration
	for i := range 200 {
		trx := fmt.Sprintf("trx-%09d", (i*12_497+7)%(LookupRows/4))
		start := time.Now()
		page, _, err := s.ListDeliveries(ctx, store.ListParams{OrganizationID: 1, TrxID: trx, Limit: 50})
		took = append(took, time.Since(start))
		if err != nil || len(page) == 0 {
			t.Fatalf("trxID %s: %d deliveries, %v", trx, len(page), err)
		}
	}
	slices.Sort(took)
	t.Logf("trxID lookup among %d deliveries: median %v, slowest %v (200 lookups)", LookupRows, took[len(took)/2], took[len(took)-1])
	start = time.Now()
	n, _, err := s.RetryDeliveries(ctx, store.RetryParams{DeliveryFilter: store.DeliveryFilter{OrganizationID: 1, Status: otw.DeliveryFailed,
		TrxID: fmt.Sprintf("trx-%09d", 12_312)}, Limit: 10_000, DryRun: true})
	t.Logf("dry run of a bulk retry by trxID: %d in %v (%v)", n, time.Since(start), err)
}
