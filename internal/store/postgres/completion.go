package postgres

import (
	"cmp"
	"context"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// completeWithEffects writes a completion that disables webhooks or stores
// events: the outcomes' batch b, then the disables, then the events, in
// one transaction (the outcomes alone need none: see CompleteAttempts).
func (s *Store) completeWithEffects(ctx context.Context, b *pgx.Batch, c *store.Completion, next nextOfKeys) ([]store.Claimed, error) {
	// In organization order, so two writes disabling the same webhooks
	// lock them in the same order.
	order := make([]int, len(c.Disable))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(i, j int) int { return cmp.Compare(c.Disable[i].OrganizationID, c.Disable[j].OrganizationID) })
	var out []store.Inserted
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if len(c.Results) > 0 {
			if err := tx.SendBatch(ctx, b).Close(); err != nil {
				return err
			}
		}
		switched := make([]bool, len(c.Disable))
		for _, i := range order {
			d := c.Disable[i]
			var err error
			switched[i], err = disable(ctx, tx, d.OrganizationID, d.Reason, c.Now)
			if err != nil && otw.ErrorCode(err) != otw.ENOTFOUND {
				return err
			}
		}
		if events := c.EffectEvents(switched); len(events) > 0 {
			out = make([]store.Inserted, len(events))
			if _, err := insertTx(ctx, tx, events, out, c.Now, store.Take{}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if store.Announces(out) {
		s.announce(ctx) // for any node's claim
	}
	// After the commit: a webhook disabled above hands nothing over.
	return s.handOver(ctx, next), nil
}
