// Package retention removes events, deliveries and attempts older than
// the retention window, in the background, in small steps: each step is
// one short write, and a pause follows it, so a publish never waits long
// behind it. A pending delivery is never removed, nor its event.
package retention

import (
	"context"
	"log/slog"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// Config configures Run. Zero values take the defaults.
type Config struct {
	Store store.Store
	// Window is how long what was published is kept. Zero keeps
	// everything (Run returns at once).
	Window time.Duration
	Step   int           // events looked at per step: 200
	Pause  time.Duration // between steps: 20 ms, the writer free meanwhile
	Idle   time.Duration // after a pass found nothing more: a tenth of the window, at most 1 min
	Now    func() time.Time
	Logger *slog.Logger
}

// Run prunes until ctx ends. A pass walks the events oldest first and ends
// where they are younger than the window; the next pass starts again from
// the oldest, which by then are the few kept because their delivery was
// still pending.
func Run(ctx context.Context, cfg Config) {
	if cfg.Window <= 0 {
		return
	}
	if cfg.Step <= 0 {
		cfg.Step = 200
	}
	if cfg.Pause <= 0 {
		cfg.Pause = 20 * time.Millisecond
	}
	if cfg.Idle <= 0 {
		cfg.Idle = min(time.Minute, cfg.Window/10)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	var after int64
	removed := 0
	for {
		now := cfg.Now()
		next, n, err := cfg.Store.PruneEvents(ctx, store.PruneParams{
			Before: now.Add(-cfg.Window), KeyedBefore: now.Add(-max(cfg.Window, store.IdempotencyWindow)),
			After: after, Limit: cfg.Step,
		})
		wait := cfg.Pause
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			cfg.Logger.Warn("removing what is older than the retention failed; trying again later", "err", err)
			wait = cfg.Idle
		case next == after:
			// A pass's first step may remove without moving: PostgreSQL
			// drops whole partitions then.
			if removed += n; removed > 0 {
				cfg.Logger.Info("removed events older than the retention", "events", removed, "retention", cfg.Window)
			}
			after, removed, wait = 0, 0, cfg.Idle
		default:
			after, removed = next, removed+n
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}
